//! Deterministic operation ids.
//!
//! An operation's id is its position: the n-th operation of the root context
//! is `n`, the m-th operation inside the context `n` is `n-m`, and so on.
//! Ids are taken synchronously when an operation is created, in program
//! order, so concurrent branches must each run in their own child context.
//! The position is used on the wire as it is, which keeps histories readable;
//! one that would break the 64-character limit is hashed instead.

/// The longest id the Lambda durable API accepts.
const MAX_WIRE_ID: usize = 64;

/// An operation's position and its id on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OperationId {
    /// Positional path, such as `3-1-2`.
    pub path: String,
    /// The id sent to the service.
    pub wire: String,
}

impl OperationId {
    /// The id of the operation created right after this one in the same context.
    pub(crate) fn next(&self) -> Self {
        let (parent, position) = match self.path.rsplit_once('-') {
            Some((parent, position)) => (Some(parent), position),
            None => (None, self.path.as_str()),
        };
        Self::child(
            parent,
            position
                .parse::<u64>()
                .map_or(u64::MAX, |p| p.saturating_add(1)),
        )
    }

    pub(crate) fn child(parent_path: Option<&str>, position: u64) -> Self {
        let path = match parent_path {
            Some(parent) => format!("{parent}-{position}"),
            None => position.to_string(),
        };
        let wire = wire_id(&path);
        Self { path, wire }
    }
}

fn wire_id(path: &str) -> String {
    if path.len() <= MAX_WIRE_ID {
        return path.to_owned();
    }
    // Two FNV-1a passes with different offsets: stable across Rust versions,
    // unlike std's hashers, and plenty against accidental collisions.
    format!(
        "h{:016x}{:016x}",
        fnv1a(path, 0xcbf2_9ce4_8422_2325),
        fnv1a(path, 0x6c62_272e_07bb_0142)
    )
}

fn fnv1a(text: &str, offset: u64) -> u64 {
    text.bytes().fold(offset, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_nest() {
        let root = OperationId::child(None, 3);
        assert_eq!(root.wire, "3");
        let child = OperationId::child(Some(&root.path), 12);
        assert_eq!(child.path, "3-12");
        assert_eq!(child.wire, "3-12");
    }

    #[test]
    fn next_is_the_following_position() {
        assert_eq!(OperationId::child(None, 3).next().path, "4");
        assert_eq!(OperationId::child(Some("2-9"), 9).next().path, "2-9-10");
    }

    #[test]
    fn long_paths_are_hashed_stably() {
        let deep = "1-".repeat(40) + "1";
        let id = OperationId::child(Some(&deep), 2);
        assert_eq!(id.wire.len(), 33);
        assert!(id.wire.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(id.wire, OperationId::child(Some(&deep), 2).wire);
        assert_ne!(id.wire, OperationId::child(Some(&deep), 3).wire);
    }
}
