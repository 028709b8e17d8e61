//! Hash functions: hexadecimal digests of a string's UTF-8 bytes.

use crate::value::Value;

use super::args::text;
use super::context::FileContext;

type Out = Result<Value, String>;

fn hex(bytes: &[u8]) -> Value {
    Value::String(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub(super) fn sha256(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(Value::String(files::digest::sha256_hex(
        text(&args, 0).as_bytes(),
    )))
}

pub(super) fn sha1(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    use sha1::Digest;
    Ok(hex(&sha1::Sha1::digest(text(&args, 0).as_bytes())))
}

pub(super) fn md5(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    use md5::Digest;
    Ok(hex(&md5::Md5::digest(text(&args, 0).as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::super::args::testing::*;
    use super::*;

    #[test]
    fn digests_of_known_strings() {
        assert_eq!(
            run(sha256, vec![s("hello")]),
            Ok(s(
                "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
            ))
        );
        assert_eq!(
            run(sha1, vec![s("hello")]),
            Ok(s("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"))
        );
        assert_eq!(
            run(md5, vec![s("hello")]),
            Ok(s("5d41402abc4b2a76b9719d911017c592"))
        );
        assert_eq!(
            run(md5, vec![s("")]),
            Ok(s("d41d8cd98f00b204e9800998ecf8427e"))
        );
    }
}
