//! Formatting for the terminal: tables, the execution summary and the
//! history timeline. Every function returns text; commands print it.

pub mod describe;
pub mod table;
pub mod timeline;

use std::time::Duration;

use durable_core::model::ErrorObject;

/// Longest payload shown inline before it is cut short.
const MAX_INLINE: usize = 80;

/// `text` on one line, cut to [`MAX_INLINE`] characters.
pub fn inline(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX_INLINE {
        return one_line;
    }
    let cut: String = one_line.chars().take(MAX_INLINE - 1).collect();
    format!("{cut}…")
}

/// `Type: message`, or whichever of the two is set.
pub fn error(error: &ErrorObject) -> String {
    match (&error.error_type, &error.error_message) {
        (Some(kind), Some(message)) => format!("{kind}: {}", inline(message)),
        (Some(kind), None) => kind.clone(),
        (None, Some(message)) => inline(message),
        (None, None) => "(no details)".to_owned(),
    }
}

/// A duration in the largest units that keep it short: `850ms`, `1.2s`,
/// `5m 3s`, `2h 10m`.
pub fn duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    let seconds = duration.as_secs();
    if millis < 1000 {
        format!("{millis}ms")
    } else if seconds < 60 {
        format!("{}.{}s", seconds, duration.subsec_millis() / 100)
    } else if seconds < 3600 {
        format!("{}m {}s", seconds / 60, seconds % 60)
    } else {
        format!("{}h {}m", seconds / 3600, seconds % 3600 / 60)
    }
}

/// Rows aligned in columns, two spaces apart, the last column unpadded.
pub fn columns(rows: &[Vec<String>]) -> String {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..width)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            if column + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = widths[column] - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_short() {
        assert_eq!(duration(Duration::from_millis(850)), "850ms");
        assert_eq!(duration(Duration::from_millis(1250)), "1.2s");
        assert_eq!(duration(Duration::from_secs(303)), "5m 3s");
        assert_eq!(duration(Duration::from_secs(7800)), "2h 10m");
    }

    #[test]
    fn columns_align() {
        let rows = vec![
            vec!["A".to_owned(), "B".to_owned()],
            vec!["long".to_owned(), "x".to_owned()],
        ];
        assert_eq!(columns(&rows), "A     B\nlong  x\n");
    }

    #[test]
    fn long_payloads_are_cut() {
        let long = "x".repeat(200);
        assert_eq!(inline(&long).chars().count(), MAX_INLINE);
        assert_eq!(error(&ErrorObject::new("T", "m")), "T: m");
    }
}
