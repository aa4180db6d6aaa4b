//! Identifiers the service makes: execution ARNs, checkpoint tokens and
//! callback ids.
//!
//! Tokens and callback ids are URL-safe base64 (no padding) of a few
//! newline-separated fields: a kind tag, the sequence number or operation id,
//! a random nonce and the execution ARN, so that a callback id alone leads
//! back to its execution.

use std::fmt::Write as _;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The ARN of a self-hosted execution.
///
/// It has the shape of a Lambda durable execution ARN, so that SDKs find the
/// EXECUTION operation's id as the last `/` segment.
pub fn execution_arn(function_name: &str, execution_name: &str, execution_id: &str) -> String {
    format!(
        "arn:durable:lambda:local:000000000000:function:{function_name}:$LATEST/durable-execution/{execution_name}/{execution_id}"
    )
}

/// The id of the EXECUTION operation: the last `/` segment of the ARN.
pub fn execution_operation_id(execution_arn: &str) -> &str {
    execution_arn.rsplit('/').next().unwrap_or(execution_arn)
}

/// Where a callback id leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRef {
    /// The execution the callback belongs to.
    pub execution_arn: String,
    /// The CALLBACK operation's id.
    pub operation_id: String,
}

/// Reads the execution and operation out of a callback id made by this
/// service. `None` for anything else.
pub fn parse_callback_id(callback_id: &str) -> Option<CallbackRef> {
    let bytes = base64url_decode(callback_id)?;
    let text = String::from_utf8(bytes).ok()?;
    let mut fields = text.splitn(4, '\n');
    if fields.next()? != "cb" {
        return None;
    }
    let operation_id = fields.next()?.to_owned();
    let _nonce = fields.next()?;
    let execution_arn = fields.next()?.to_owned();
    Some(CallbackRef {
        execution_arn,
        operation_id,
    })
}

/// A fresh, unguessable callback id for `operation_id` of `execution_arn`.
pub(crate) fn new_callback_id(execution_arn: &str, operation_id: &str) -> String {
    let nonce: u64 = rand::random();
    base64url_encode(format!("cb\n{operation_id}\n{nonce:016x}\n{execution_arn}").as_bytes())
}

/// A fresh, unguessable checkpoint token carrying its sequence number.
pub(crate) fn new_checkpoint_token(execution_arn: &str, sequence: u64) -> String {
    let nonce: u64 = rand::random();
    base64url_encode(format!("ct\n{sequence}\n{nonce:016x}\n{execution_arn}").as_bytes())
}

/// A fresh random execution id: 32 lowercase hex digits.
pub fn new_execution_id() -> String {
    let (high, low): (u64, u64) = (rand::random(), rand::random());
    let mut id = String::with_capacity(32);
    let _ = write!(id, "{high:016x}{low:016x}");
    id
}

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = ALPHABET.iter().position(|&c| c == byte)?;
        buffer = (buffer << 6) | u32::try_from(value).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_every_length() {
        for len in 0..20 {
            let bytes: Vec<u8> = (0..len)
                .map(|i: u32| u8::try_from((i * 37 + 11) % 256).unwrap())
                .collect();
            let text = base64url_encode(&bytes);
            assert!(text.bytes().all(|b| ALPHABET.contains(&b)));
            assert_eq!(base64url_decode(&text).unwrap(), bytes);
        }
        assert_eq!(base64url_encode(b"hello"), "aGVsbG8");
        assert_eq!(base64url_decode("a=b"), None);
    }

    #[test]
    fn callback_ids_lead_back_to_their_operation() {
        let arn = execution_arn("fn", "name", "abc");
        let id = new_callback_id(&arn, "op-1");
        assert_ne!(id, new_callback_id(&arn, "op-1"));
        let found = parse_callback_id(&id).unwrap();
        assert_eq!(found.execution_arn, arn);
        assert_eq!(found.operation_id, "op-1");
        assert_eq!(parse_callback_id(&new_checkpoint_token(&arn, 1)), None);
        assert_eq!(parse_callback_id("not a callback id"), None);
    }

    #[test]
    fn execution_operation_id_is_the_last_segment() {
        let arn = execution_arn("fn", "name", "abc");
        assert_eq!(execution_operation_id(&arn), "abc");
        assert_eq!(execution_operation_id("plain"), "plain");
        assert_eq!(new_execution_id().len(), 32);
    }
}
