//! One line for an error and its causes: what a person reads instead of an SDK's debug dump.
//! It lives in this crate, below every other, so the state backend and the providers share it.

/// An error and its causes as one line, `outer: cause: root cause`, each message once: what a
/// person reads instead of the SDK's debug dump of nested structs.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        let text = text.trim();
        // Wrappers often repeat their cause's message, or say nothing of their own.
        if !text.is_empty() && !parts.iter().any(|p| p.contains(text)) {
            parts.push(text.to_string());
        }
        next = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn causes_join_in_order_and_a_repeated_or_empty_message_is_left_out() {
        let root = Layer("Connection refused (os error 111)", None);
        let repeat = Layer("tcp connect error", Some(Box::new(root)));
        let empty = Layer("", Some(Box::new(repeat)));
        let outer = Layer("dispatch failure: tcp connect error", Some(Box::new(empty)));
        assert_eq!(
            error_chain(&outer),
            "dispatch failure: tcp connect error: Connection refused (os error 111)"
        );
    }
}
