//! "Did you mean" hints for every name a person can misspell: keys, types, properties,
//! params, resources and attributes.

/// The candidate closest to `word`, when one is close enough to be a likely typo.
///
/// Close means a small edit distance for the word's length, a high Jaro-Winkler similarity
/// (which favours a shared beginning: `visiblity_timeout` finds `visibility_timeout_seconds`),
/// or the same word in another case. Ties go to the first candidate, so hints are stable.
pub fn did_you_mean<I, S>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    const MIN_SIMILARITY: f64 = 0.85;
    let word_lower = word.to_lowercase();
    let mut best: Option<(f64, String)> = None;
    for candidate in candidates {
        let candidate = candidate.as_ref();
        if candidate == word || candidate.is_empty() {
            continue;
        }
        let lower = candidate.to_lowercase();
        let distance = strsim::damerau_levenshtein(&word_lower, &lower);
        let allowed = (word_lower.chars().count().min(lower.chars().count()) / 3).max(1);
        let similarity = strsim::jaro_winkler(&word_lower, &lower);
        let close = distance <= allowed || similarity >= MIN_SIMILARITY;
        if !close {
            continue;
        }
        let score = similarity - distance as f64 * 0.01;
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, candidate.to_string()));
        }
    }
    best.map(|(_, c)| c)
}

/// `did you mean `x`?`, for a diagnostic's help.
pub(crate) fn hint<I, S>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    did_you_mean(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// `a`, `b` and `c`, for help texts.
pub(crate) fn list_names<S: AsRef<str>>(names: &[S]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_ref())).collect();
    match quoted.split_last() {
        None => "nothing".into(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_typos_find_the_intended_name() {
        let keys = ["stack", "resources", "outputs", "params"];
        assert_eq!(did_you_mean("resorces", keys).as_deref(), Some("resources"));
        assert_eq!(did_you_mean("stak", keys).as_deref(), Some("stack"));
        assert_eq!(did_you_mean("Outputs", keys).as_deref(), Some("outputs"));
        assert_eq!(
            did_you_mean(
                "visiblity_timeout",
                ["name", "visibility_timeout_seconds", "policy"]
            )
            .as_deref(),
            Some("visibility_timeout_seconds")
        );
        assert_eq!(
            did_you_mean("aws.sqs.qeue", ["aws.sqs.queue", "aws.sns.topic"]).as_deref(),
            Some("aws.sqs.queue")
        );
        assert_eq!(
            did_you_mean("evn", ["env", "memory"]).as_deref(),
            Some("env")
        );
    }

    #[test]
    fn unrelated_words_get_no_hint() {
        assert_eq!(did_you_mean("xyz", ["env", "memory"]), None);
        assert_eq!(did_you_mean("banana", ["resources", "outputs"]), None);
        assert_eq!(did_you_mean("a", Vec::<String>::new()), None);
    }
}
