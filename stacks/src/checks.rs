//! Checks of known property values beyond their kind, declared beside each type's schema
//! ([`crate::schema::Prop::range`], `length`, `cidr`, `arn`) and made at load time, so a value
//! AWS would refuse never reaches AWS.

use std::net::Ipv4Addr;
use std::path::Path;

use crate::value::Value;

/// One rule a known value must satisfy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Check {
    /// A number between the two bounds, both included.
    Range(i64, i64),
    /// A string with this many characters, both bounds included.
    Length(usize, usize),
    /// An IPv4 CIDR block whose address is the network's first (`10.0.0.0/16`).
    Cidr,
    /// An ARN of one of these services; of any service when empty.
    Arn(&'static [&'static str]),
    /// A local path naming a directory or a `.zip` file (a Lambda function's code).
    DirectoryOrZip,
    /// A local path naming a regular file (an object's source).
    RegularFile,
    /// A rule of the type's own, for what the checks above cannot say (a KMS alias name starts
    /// with `alias/`; a recovery window is 0 or 7 to 30 days), declared beside the type's schema.
    Rule(Rule),
}

/// A type's own rule over a known value: `Ok`, or why not (never echoing the value, which may
/// be sensitive) and what to write instead. Compared by the function it calls.
#[derive(Clone, Copy)]
pub struct Rule(pub fn(&Value) -> Result<(), Failure>);

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rule(..)")
    }
}

/// Why a value fails a check, without the value itself (it may be sensitive), and what to do.
#[derive(Debug, PartialEq)]
pub struct Failure {
    pub problem: String,
    pub help: String,
}

impl Check {
    /// What the rule asks, for the docs ("0 to 43200"); empty for a type's own rule.
    pub fn describe(&self) -> String {
        match self {
            Check::Range(min, max) => format!("{min} to {max}"),
            Check::Length(min, max) => format!("{min} to {max} characters"),
            Check::Cidr => "an IPv4 CIDR block".into(),
            Check::Arn([]) => "an ARN".into(),
            Check::Arn(services) => format!("an ARN of {}", services.join(" or ")),
            Check::DirectoryOrZip => "a directory or a .zip file".into(),
            Check::RegularFile => "a regular file".into(),
            // The type's property notes say what its own rule asks.
            Check::Rule(_) => String::new(),
        }
    }

    /// `Ok` when `value` satisfies the rule. Values of another kind pass: the kind check
    /// reports them.
    pub fn test(&self, value: &Value) -> Result<(), Failure> {
        let value = match value {
            Value::Sensitive(inner) => inner,
            other => other,
        };
        match (self, value) {
            (Check::Range(min, max), Value::Number(n)) => {
                let Some(f) = n.as_f64() else { return Ok(()) };
                if f < *min as f64 || f > *max as f64 {
                    return Err(Failure {
                        problem: "is out of range".into(),
                        help: format!("AWS takes {min} to {max}"),
                    });
                }
                Ok(())
            }
            (Check::Length(min, max), Value::String(s)) => {
                let len = s.chars().count();
                if len < *min || len > *max {
                    return Err(Failure {
                        problem: format!("has {len} characters"),
                        help: format!("AWS takes {min} to {max} characters"),
                    });
                }
                Ok(())
            }
            (Check::Cidr, Value::String(s)) => cidr(s),
            (Check::Arn(services), Value::String(s)) => arn(s, services),
            (Check::Rule(rule), value) => (rule.0)(value),
            _ => Ok(()),
        }
    }

    /// `Ok` when the local path `full` (which exists) is what the rule asks for; rules about
    /// values pass.
    pub fn test_path(&self, full: &Path) -> Result<(), Failure> {
        let Ok(meta) = std::fs::metadata(full) else {
            return Ok(());
        };
        match self {
            Check::DirectoryOrZip => {
                let zip = meta.is_file()
                    && full
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
                if meta.is_dir() || zip {
                    return Ok(());
                }
                Err(Failure {
                    problem: "is neither a directory nor a .zip file".into(),
                    help: "name the directory strata zips (or a ready .zip file)".into(),
                })
            }
            Check::RegularFile if !meta.is_file() => Err(Failure {
                problem: "is not a regular file".into(),
                help: "name a file (not a directory or a device)".into(),
            }),
            _ => Ok(()),
        }
    }
}

fn cidr(text: &str) -> Result<(), Failure> {
    let bad = |problem: &str| Failure {
        problem: problem.into(),
        help: "write an IPv4 block as ADDRESS/PREFIX with a prefix of 0 to 32, e.g. `10.0.0.0/16`"
            .into(),
    };
    let Some((addr, prefix)) = text.split_once('/') else {
        return Err(bad("is not a CIDR block (no `/PREFIX`)"));
    };
    let addr: Ipv4Addr = addr
        .parse()
        .map_err(|_| bad("is not a CIDR block (the address is not IPv4)"))?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= 32)
        .ok_or_else(|| bad("is not a CIDR block (the prefix is not 0 to 32)"))?;
    let net = ipnet::Ipv4Net::new(addr, prefix).map_err(|_| bad("is not a CIDR block"))?;
    if net.network() != addr {
        return Err(Failure {
            problem: "is not the first address of its block".into(),
            help: format!("write `{}`", net.trunc()),
        });
    }
    Ok(())
}

fn arn(text: &str, services: &[&str]) -> Result<(), Failure> {
    let expected = match services {
        [] => "an ARN".to_string(),
        [one] => format!("an ARN of {one}"),
        many => format!("an ARN of {}", many.join(" or ")),
    };
    let help = format!(
        "write {expected} (`arn:aws:{}:REGION:ACCOUNT:…`), or reference another resource's `arn`",
        services.first().unwrap_or(&"SERVICE")
    );
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let well_formed = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && !parts[2].is_empty()
        && !parts[5].is_empty();
    if !well_formed {
        return Err(Failure {
            problem: "is not an ARN".into(),
            help,
        });
    }
    if !services.is_empty() && !services.contains(&parts[2]) {
        return Err(Failure {
            problem: format!("is an ARN of {}, not {expected}", parts[2]),
            help,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails(check: Check, value: impl Into<Value>) -> String {
        check.test(&value.into()).unwrap_err().problem
    }

    #[test]
    fn a_number_outside_the_range_fails_and_the_bounds_pass() {
        assert_eq!(fails(Check::Range(0, 43200), 50000), "is out of range");
        assert!(Check::Range(0, 43200).test(&Value::from(43200)).is_ok());
        assert!(Check::Range(0, 43200).test(&Value::from(0)).is_ok());
        assert_eq!(fails(Check::Range(0, 43200), -1), "is out of range");
    }

    #[test]
    fn cidr_blocks_are_checked_like_aws_does() {
        assert!(Check::Cidr.test(&Value::from("10.0.0.0/16")).is_ok());
        assert!(fails(Check::Cidr, "10.0.0.0/33").contains("prefix"));
        assert!(fails(Check::Cidr, "10.0.0.0").contains("no `/PREFIX`"));
        assert!(fails(Check::Cidr, "10.0.300.0/24").contains("not IPv4"));
        let err = Check::Cidr.test(&Value::from("10.0.1.0/16")).unwrap_err();
        assert_eq!(err.help, "write `10.0.0.0/16`");
    }

    #[test]
    fn arns_are_checked_for_shape_and_service() {
        let sqs = Check::Arn(&["sqs"]);
        assert!(sqs
            .test(&Value::from("arn:aws:sqs:us-east-1:123456789012:q"))
            .is_ok());
        assert_eq!(fails(sqs, "orders-queue"), "is not an ARN");
        assert_eq!(
            fails(sqs, "arn:aws:sns:us-east-1:123456789012:t"),
            "is an ARN of sns, not an ARN of sqs"
        );
        assert!(Check::Arn(&[])
            .test(&Value::from("arn:aws:iam::aws:policy/ReadOnlyAccess"))
            .is_ok());
    }

    #[test]
    fn local_paths_are_checked_for_what_they_name() {
        let dir = std::env::temp_dir();
        assert!(Check::DirectoryOrZip.test_path(&dir).is_ok());
        assert!(Check::RegularFile.test_path(&dir).is_err());
        let dev_zero = Path::new("/dev/zero");
        if dev_zero.exists() {
            assert!(Check::DirectoryOrZip.test_path(dev_zero).is_err());
            assert!(Check::RegularFile.test_path(dev_zero).is_err());
        }
    }

    #[test]
    fn a_rule_of_the_type_decides_and_explains() {
        fn even(value: &Value) -> Result<(), Failure> {
            match value.as_i64() {
                Some(n) if n % 2 == 1 => Err(Failure {
                    problem: "is odd".into(),
                    help: "write an even number".into(),
                }),
                _ => Ok(()),
            }
        }
        let rule = Check::Rule(Rule(even));
        assert_eq!(fails(rule, 3), "is odd");
        assert!(rule.test(&Value::from(4)).is_ok());
        assert_eq!(rule, Check::Rule(Rule(even)));
    }

    #[test]
    fn a_sensitive_value_is_checked_and_other_kinds_pass() {
        let secret = Value::Sensitive(Box::new(Value::from("x")));
        assert!(Check::Length(2, 10).test(&secret).is_err());
        assert!(Check::Cidr.test(&Value::from(3)).is_ok());
    }
}
