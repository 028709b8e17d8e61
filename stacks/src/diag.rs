//! One diagnostic type for every error a person can act on, and one renderer.
//!
//! A stack error names `file:line:column`, shows the source line with a caret, and says what
//! to do. Rendering goes through `annotate-snippets`, as cargo does.

use std::fmt;
use std::path::PathBuf;

/// Where in a source file a diagnostic points. Lines and columns are 1-based characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
    /// How many characters to underline (at least one).
    pub len: u32,
}

/// An error a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Option<Span>,
    /// The whole text of the file the span points into, for the snippet.
    pub source: Option<String>,
    /// What to do about it (`did you mean ...`).
    pub help: Option<String>,
    /// Further context ("the stack uses it here").
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span: None,
            source: None,
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn at(mut self, span: Span, source: impl Into<String>) -> Diagnostic {
        self.span = Some(span);
        self.source = Some(source.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// `file:line:column`, when the diagnostic has a span.
    pub fn location(&self) -> Option<String> {
        self.span
            .as_ref()
            .map(|s| format!("{}:{}:{}", s.file.display(), s.line, s.column))
    }

    /// Renders as cargo does: `error: ...`, ` --> file:line:col`, the source line with a
    /// caret, then `help:`. Colour only when `color`.
    pub fn render(&self, color: bool) -> String {
        use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let path_text = self
            .span
            .as_ref()
            .map(|s| s.file.display().to_string())
            .unwrap_or_default();
        let mut group = Group::with_title(Level::ERROR.primary_title(&self.message));
        if let (Some(span), Some(source)) = (&self.span, &self.source) {
            if let Some(range) = byte_range(source, span) {
                group = group.element(
                    Snippet::source(source.as_str())
                        .path(path_text.as_str())
                        .line_start(1)
                        .annotation(AnnotationKind::Primary.span(range)),
                );
            }
        }
        for note in &self.notes {
            group = group.element(Level::NOTE.message(note.as_str()));
        }
        if let Some(help) = &self.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        renderer.render(&[group])
    }
}

/// Converts a 1-based line/column (characters) to a byte range of the source.
fn byte_range(source: &str, span: &Span) -> Option<std::ops::Range<usize>> {
    let mut offset = 0usize;
    for (index, line) in source.split_inclusive('\n').enumerate() {
        if index + 1 == span.line as usize {
            let content = line.trim_end_matches(['\n', '\r']);
            let start_char = (span.column.max(1) - 1) as usize;
            let start = content
                .char_indices()
                .nth(start_char)
                .map(|(i, _)| i)
                .unwrap_or(content.len());
            let len_chars = span.len.max(1) as usize;
            let end = content[start..]
                .char_indices()
                .nth(len_chars)
                .map(|(i, _)| start + i)
                .unwrap_or(content.len());
            let end = end.max(start);
            return Some(offset + start..offset + end);
        }
        offset += line.len();
    }
    None
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for Diagnostic {}

/// One or more diagnostics: loading reports every error it finds, not only the first.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn render(&self, color: bool) -> String {
        self.0
            .iter()
            .map(|d| d.render(color))
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diagnostic_names_file_line_column_and_shows_the_source_line() {
        let source = "stack: demo\nresources:\n  q:\n    type: aws.sqs.qeue\n";
        let d = Diagnostic::new("unknown resource type `aws.sqs.qeue`")
            .at(
                Span {
                    file: "stack.yaml".into(),
                    line: 4,
                    column: 11,
                    len: 12,
                },
                source,
            )
            .help("did you mean `aws.sqs.queue`?");
        let text = d.render(false);
        assert!(text.contains("error: unknown resource type"), "{text}");
        assert!(text.contains("stack.yaml:4:11"), "{text}");
        assert!(text.contains("    type: aws.sqs.qeue"), "{text}");
        assert!(
            text.contains("help: did you mean `aws.sqs.queue`?"),
            "{text}"
        );
    }
}
