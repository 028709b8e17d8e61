//! One diagnostic type for every error or finding a person can act on, and one renderer.
//!
//! A stack error names `file:line:column`, shows the source line with a caret, and says what
//! to do. Rendering goes through `annotate-snippets`, as cargo does, and its styles are the
//! only colours a diagnostic is printed in (the brief form of [`Diagnostic::render_brief`]
//! borrows them too), so no caller writes terminal codes of its own.

use std::fmt;
use std::path::PathBuf;

use annotate_snippets::renderer::{
    Style, DEFAULT_ERROR_STYLE, DEFAULT_HELP_STYLE, DEFAULT_NOTE_STYLE, DEFAULT_WARNING_STYLE,
};
use annotate_snippets::Level;

/// How bad a diagnostic is, and the word it is labelled with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Severity {
    /// Something that stops the command (`error:`).
    #[default]
    Error,
    /// Worth a look; the command goes on (`warning:`).
    Warning,
    /// A high-severity lint finding (`high:`), shown as errors are.
    High,
    /// A medium-severity lint finding (`medium:`), shown as warnings are.
    Medium,
}

impl Severity {
    /// The word the diagnostic starts with.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::High => "high",
            Severity::Medium => "medium",
        }
    }

    /// The renderer's level for it: errors and high findings look like errors, the others
    /// like warnings.
    fn level(self) -> Level<'static> {
        match self {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
            Severity::High => Level::ERROR.with_name(self.name()),
            Severity::Medium => Level::WARNING.with_name(self.name()),
        }
    }

    /// The renderer's style for its label.
    fn style(self) -> Style {
        match self {
            Severity::Error | Severity::High => DEFAULT_ERROR_STYLE,
            Severity::Warning | Severity::Medium => DEFAULT_WARNING_STYLE,
        }
    }
}

/// Where in a source file a diagnostic points. Lines and columns are 1-based characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
    /// How many characters to underline (at least one).
    pub len: u32,
}

/// An error (or a warning, or a lint finding) a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A short id shown with the severity (`high[SG001]: ...`), such as a lint rule's.
    pub code: Option<String>,
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
            severity: Severity::Error,
            code: None,
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

    /// Keeps the position but not the source text: for a line that holds a secret (a sensitive
    /// param's value), which must never be printed. Rendered as ` --> file:line:col` alone.
    pub fn without_source(mut self) -> Diagnostic {
        self.source = None;
        self
    }

    pub fn severity(mut self, severity: Severity) -> Diagnostic {
        self.severity = severity;
        self
    }

    pub fn code(mut self, code: impl Into<String>) -> Diagnostic {
        self.code = Some(code.into());
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

    /// Renders as cargo does: `error: ...` (or `high[SG001]: ...`), ` --> file:line:col`, the
    /// source line with a caret, then `help:`. Without the source text the location is still
    /// named. Colour only when `color`.
    pub fn render(&self, color: bool) -> String {
        use annotate_snippets::{AnnotationKind, Group, Origin, Renderer, Snippet};

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
        let mut title = self.severity.level().primary_title(&self.message);
        if let Some(code) = &self.code {
            title = title.id(code.as_str());
        }
        let mut group = Group::with_title(title);
        if let Some(span) = &self.span {
            let range = self
                .source
                .as_deref()
                .and_then(|source| Some((source, byte_range(source, span)?)));
            group = match range {
                Some((source, range)) => group.element(
                    Snippet::source(source)
                        .path(path_text.as_str())
                        .line_start(1)
                        .annotation(AnnotationKind::Primary.span(range)),
                ),
                None => group.element(
                    Origin::path(path_text.as_str())
                        .line(span.line as usize)
                        .char_column(span.column as usize),
                ),
            };
        }
        for note in &self.notes {
            group = group.element(Level::NOTE.message(note.as_str()));
        }
        if let Some(help) = &self.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        renderer.render(&[group])
    }

    /// The brief form, for a failure with no source to show: `error: message`, then
    /// `  note: ...` and `  help: ...` lines, in the renderer's colours when `color`.
    pub fn render_brief(&self, color: bool) -> String {
        let paint = |style: Style, text: &str| {
            if color {
                format!("{style}{text}{style:#}")
            } else {
                text.to_string()
            }
        };
        let label = match &self.code {
            Some(code) => format!("{}[{code}]", self.severity.name()),
            None => self.severity.name().to_string(),
        };
        let mut out = format!("{}: {}", paint(self.severity.style(), &label), self.message);
        if let Some(location) = self.location() {
            out.push_str(&format!("\n  --> {location}"));
        }
        for note in &self.notes {
            out.push_str(&format!(
                "\n  {}: {note}",
                paint(DEFAULT_NOTE_STYLE, "note")
            ));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!(
                "\n  {}: {help}",
                paint(DEFAULT_HELP_STYLE, "help")
            ));
        }
        out
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

    #[test]
    fn a_finding_is_labelled_with_its_severity_and_code() {
        let source = "a: 1\nb: 2\n";
        let span = Span {
            file: "stack.yaml".into(),
            line: 2,
            column: 1,
            len: 1,
        };
        let d = Diagnostic::new("b is risky")
            .severity(Severity::Medium)
            .code("B001")
            .at(span.clone(), source);
        let text = d.render(false);
        assert!(text.starts_with("medium[B001]: b is risky"), "{text}");
        assert!(text.contains("stack.yaml:2:1"), "{text}");

        // Without the source the location is still named.
        let mut bare = d.clone();
        bare.source = None;
        let text = bare.severity(Severity::High).render(false);
        assert!(text.starts_with("high[B001]: b is risky"), "{text}");
        assert!(text.contains("--> stack.yaml:2:1"), "{text}");
    }

    #[test]
    fn the_brief_form_is_one_line_then_help_and_colours_only_when_asked() {
        let d = Diagnostic::new("no stack here").help("run `strata init`");
        assert_eq!(
            d.render_brief(false),
            "error: no stack here\n  help: run `strata init`"
        );
        let styled = d.render_brief(true);
        assert!(styled.contains("\u{1b}["), "{styled:?}");
        assert!(styled.contains("no stack here"), "{styled:?}");
    }
}
