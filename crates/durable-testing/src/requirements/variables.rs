//! Placeholders: per-run variables (`${GEN_STR:N}`) and values bound while
//! matching (`${NAME}`), substituted into strings.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rand::Rng;
use regex::{Captures, Regex};
use serde_json::Value;

/// `${NAME}` inside a string.
static REFERENCE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}").ok());

/// A whole-string generator, `${GEN_STR:N}`.
static GEN_STR: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\$\{GEN_STR:(\d+)\}$").ok());

/// Characters of generated strings: lower-case letters and digits, safe in
/// names, ids and payloads everywhere.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Placeholder values of one requirement run: its variables first, then the
/// values bound while matching the history, shared by the result and log
/// checks that follow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bindings {
    values: BTreeMap<String, Value>,
}

impl Bindings {
    /// No bindings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the variables of a requirement: `${GEN_STR:N}` becomes a fresh
    /// random string of length `N`; any other value is bound as its text.
    pub fn generate(variables: &[(String, Value)]) -> Self {
        let mut bindings = Self::new();
        let mut rng = rand::rng();
        for (name, value) in variables {
            let text = match value {
                Value::String(s) => match gen_str_length(s) {
                    Some(len) => (0..len)
                        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                        .collect(),
                    None => s.clone(),
                },
                other => render(other),
            };
            bindings.values.insert(name.clone(), Value::String(text));
        }
        bindings
    }

    /// The value bound to `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Binds `name` to `value`, replacing any previous value.
    pub fn insert(&mut self, name: impl Into<String>, value: Value) {
        self.values.insert(name.into(), value);
    }

    /// All bindings, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Replaces every bound `${NAME}` in `text` by its value (strings as
    /// they are, other values as JSON text). Unbound references stay.
    pub fn substitute_str(&self, text: &str) -> String {
        let Some(re) = REFERENCE.as_ref() else {
            return text.to_owned();
        };
        if !text.contains("${") {
            return text.to_owned();
        }
        re.replace_all(text, |caps: &Captures<'_>| {
            match self.values.get(&caps[1]) {
                Some(value) => render(value),
                None => caps[0].to_owned(),
            }
        })
        .into_owned()
    }

    /// [`substitute_str`](Self::substitute_str) applied to every string
    /// inside `value` (object keys are left alone).
    pub fn substitute(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.substitute_str(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.substitute(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.substitute(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// `N` when `text` is exactly `${GEN_STR:N}`.
fn gen_str_length(text: &str) -> Option<usize> {
    GEN_STR
        .as_ref()?
        .captures(text)?
        .get(1)?
        .as_str()
        .parse()
        .ok()
}

/// A value as text: strings unquoted, anything else as its JSON text.
pub fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn generates_random_strings_of_the_given_length() {
        let vars = vec![
            ("A".to_owned(), json!("${GEN_STR:10}")),
            ("B".to_owned(), json!("${GEN_STR:10}")),
            ("LIT".to_owned(), json!("fixed")),
            ("NUM".to_owned(), json!(3)),
        ];
        let b = Bindings::generate(&vars);
        let a = b.get("A").and_then(Value::as_str).unwrap();
        assert_eq!(a.len(), 10);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_ne!(b.get("A"), b.get("B"));
        assert_eq!(b.get("LIT"), Some(&json!("fixed")));
        assert_eq!(b.get("NUM"), Some(&json!("3")));
        let again = Bindings::generate(&vars);
        assert_ne!(again.get("A"), b.get("A"), "a new value per run");
    }

    #[test]
    fn substitutes_inside_strings() {
        let mut b = Bindings::new();
        b.insert("INPUT_1", json!("abc"));
        b.insert("N", json!(7));
        assert_eq!(b.substitute_str("${INPUT_1}"), "abc");
        assert_eq!(b.substitute_str("\"${INPUT_1}\""), "\"abc\"");
        assert_eq!(b.substitute_str("/${INPUT_1}/"), "/abc/");
        assert_eq!(
            b.substitute_str("n=${N}, ${MISSING}, ${/re/}"),
            "n=7, ${MISSING}, ${/re/}"
        );
        let v = json!({"a": ["${INPUT_1}", 1, null], "${INPUT_1}": {"b": "x${N}"}});
        assert_eq!(
            b.substitute(&v),
            json!({"a": ["abc", 1, null], "${INPUT_1}": {"b": "x7"}})
        );
    }
}
