//! Network functions, as Terraform's: `cidrsubnet`, `cidrhost`, `cidrnetmask`, IPv4 and IPv6.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::value::Value;

use super::args::{int, text};
use super::context::FileContext;

type Out = Result<Value, String>;

fn parse(prefix: &str) -> Result<IpNet, String> {
    prefix
        .parse::<IpNet>()
        .map_err(|_| format!("\"{prefix}\" is not a CIDR block (such as \"10.0.0.0/16\")"))
}

/// The address as a number, and how many bits it has.
fn bits(net: &IpNet) -> (u128, u8) {
    match net.network() {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

fn address(n: u128, width: u8) -> IpAddr {
    if width == 32 {
        IpAddr::V4(Ipv4Addr::from(n as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(n))
    }
}

/// 2^`bits` when it fits, else `None` (any number fits).
fn capacity(bits: u32) -> Option<u128> {
    1u128.checked_shl(bits).filter(|_| bits < 128)
}

pub(super) fn cidrsubnet(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let net = parse(text(&args, 0))?;
    let newbits = int(&args, 1, "newbits")?;
    let netnum = int(&args, 2, "netnum")?;
    let (base, width) = bits(&net);
    let len = net.prefix_len();
    if newbits < 0 {
        return Err(format!("newbits must not be negative, got {newbits}"));
    }
    let new_len = i64::from(len) + newbits;
    if new_len > i64::from(width) {
        return Err(format!(
            "insufficient address space to extend prefix of {len} by {newbits}"
        ));
    }
    let fits = capacity(newbits as u32).is_none_or(|c| (netnum as u128) < c);
    if netnum < 0 || !fits {
        return Err(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
        ));
    }
    let shift = u32::from(width) - new_len as u32;
    let n = base | (netnum as u128).checked_shl(shift).unwrap_or(0);
    Ok(Value::String(format!("{}/{new_len}", address(n, width))))
}

pub(super) fn cidrhost(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let net = parse(text(&args, 0))?;
    let hostnum = int(&args, 1, "hostnum")?;
    let (base, width) = bits(&net);
    let len = net.prefix_len();
    let host_bits = u32::from(width - len);
    let out_of_range = || format!("prefix of {len} does not accommodate a host numbered {hostnum}");
    let index = match (hostnum < 0, capacity(host_bits)) {
        (false, Some(c)) if (hostnum as u128) >= c => return Err(out_of_range()),
        (false, _) => hostnum as u128,
        (true, Some(c)) => c
            .checked_sub(hostnum.unsigned_abs() as u128)
            .ok_or_else(out_of_range)?,
        (true, None) => u128::MAX - (hostnum.unsigned_abs() as u128 - 1),
    };
    Ok(Value::String(address(base | index, width).to_string()))
}

pub(super) fn cidrnetmask(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    match parse(text(&args, 0))? {
        IpNet::V4(net) => Ok(Value::String(net.netmask().to_string())),
        IpNet::V6(_) => Err("only IPv4 prefixes have a netmask".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::args::testing::*;
    use super::*;

    #[test]
    fn cidrsubnet_extends_the_prefix_and_refuses_overflow() {
        assert_eq!(
            run(cidrsubnet, vec![s("10.0.0.0/16"), n(8), n(2)]),
            Ok(s("10.0.2.0/24"))
        );
        assert_eq!(
            run(cidrsubnet, vec![s("172.16.0.0/12"), n(4), n(2)]),
            Ok(s("172.18.0.0/16"))
        );
        assert_eq!(
            run(cidrsubnet, vec![s("10.1.2.3/16"), n(0), n(0)]),
            Ok(s("10.1.0.0/16"))
        );
        assert_eq!(
            run(
                cidrsubnet,
                vec![s("fd00:fd12:3456:7890::/56"), n(16), n(162)]
            ),
            Ok(s("fd00:fd12:3456:7800:a200::/72"))
        );
        let error = run(cidrsubnet, vec![s("10.0.0.0/16"), n(8), n(300)]).expect_err("overflow");
        assert!(
            error.contains("prefix extension of 8 does not accommodate a subnet numbered 300"),
            "{error}"
        );
        let error = run(cidrsubnet, vec![s("10.0.0.0/16"), n(17), n(0)]).expect_err("space");
        assert!(
            error.contains("insufficient address space to extend prefix of 16 by 17"),
            "{error}"
        );
        assert!(run(cidrsubnet, vec![s("10.0.0.0/16"), n(8), n(-1)]).is_err());
        assert!(run(cidrsubnet, vec![s("nope"), n(8), n(1)]).is_err());
    }

    #[test]
    fn cidrhost_counts_from_either_end() {
        assert_eq!(
            run(cidrhost, vec![s("10.12.112.0/20"), n(16)]),
            Ok(s("10.12.112.16"))
        );
        assert_eq!(
            run(cidrhost, vec![s("10.12.112.0/20"), n(268)]),
            Ok(s("10.12.113.12"))
        );
        assert_eq!(
            run(cidrhost, vec![s("10.0.0.0/24"), n(-1)]),
            Ok(s("10.0.0.255"))
        );
        assert_eq!(
            run(cidrhost, vec![s("fd00:fd12:3456:7890:00a2::/72"), n(34)]),
            Ok(s("fd00:fd12:3456:7890::22"))
        );
        assert!(run(cidrhost, vec![s("10.0.0.0/24"), n(256)])
            .expect_err("range")
            .contains("does not accommodate a host numbered 256"));
        assert!(run(cidrhost, vec![s("10.0.0.0/24"), n(-257)]).is_err());
    }

    #[test]
    fn cidrnetmask_of_ipv4_only() {
        assert_eq!(
            run(cidrnetmask, vec![s("172.16.0.0/12")]),
            Ok(s("255.240.0.0"))
        );
        assert!(run(cidrnetmask, vec![s("fd00::/8")]).is_err());
    }
}
