//! Encoding functions: JSON, YAML, base64.

use base64::Engine;

use crate::value::Value;

use super::args::text;
use super::context::FileContext;

type Out = Result<Value, String>;

pub(super) fn jsonencode(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(Value::String(args[0].to_json().to_string()))
}

pub(super) fn jsondecode(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let s = text(&args, 0);
    serde_json::from_str::<serde_json::Value>(s)
        .map(Value::from_json)
        .map_err(|e| format!("the string is not valid JSON: {e}"))
}

pub(super) fn yamlencode(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    serde_saphyr::to_string(&args[0].to_json())
        .map(Value::String)
        .map_err(|e| format!("cannot write YAML: {e}"))
}

pub(super) fn base64encode(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(text(&args, 0)),
    ))
}

pub(super) fn base64decode(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text(&args, 0))
        .map_err(|e| format!("the string is not valid base64: {e}"))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| "the decoded bytes are not UTF-8 text".to_string())
}

#[cfg(test)]
mod tests {
    use super::super::args::testing::*;
    use super::*;
    use crate::value::Value;

    #[test]
    fn json_round_trips_and_invalid_json_fails() {
        let value = Value::Map(
            [(
                "a".to_string(),
                l(&[n(1), s("x"), Value::Bool(true), Value::Null]),
            )]
            .into_iter()
            .collect(),
        );
        let encoded = run(jsonencode, vec![value.clone()]).expect("encodes");
        assert_eq!(encoded, s(r#"{"a":[1,"x",true,null]}"#));
        assert_eq!(run(jsondecode, vec![encoded]), Ok(value));
        let error = run(jsondecode, vec![s("{nope")]).expect_err("invalid");
        assert!(error.contains("not valid JSON"), "{error}");
    }

    #[test]
    fn yaml_and_base64() {
        let yaml = run(
            yamlencode,
            vec![Value::Map([("a".to_string(), n(1))].into_iter().collect())],
        )
        .expect("yaml");
        assert_eq!(yaml.as_str().map(str::trim), Some("a: 1"));
        assert_eq!(run(base64encode, vec![s("héllo")]), Ok(s("aMOpbGxv")));
        assert_eq!(run(base64decode, vec![s("aMOpbGxv")]), Ok(s("héllo")));
        assert!(run(base64decode, vec![s("!!")]).is_err());
        assert!(run(base64decode, vec![s("/w==")])
            .expect_err("utf8")
            .contains("UTF-8"));
    }
}
