//! Which proxy, if any, the API server is reached through: the same answer kubectl gives.
//!
//! kubectl (client-go `transport.go`: the kubeconfig's `proxy-url`, else
//! `utilnet.NewProxierWithNoProxyCIDR(http.ProxyFromEnvironment)`) follows Go's
//! `golang.org/x/net/http/httpproxy` `Config.ProxyFunc`: `HTTPS_PROXY` for an https server
//! (`HTTP_PROXY` for http), never for `localhost` or a loopback address, and not for a host that
//! `NO_PROXY` names (an IP, a CIDR, a domain and its subdomains, `.domain` for subdomains only,
//! `*` for everything, each optionally with a port).
//!
//! kube-client 5.0.0 (`config/file_loader.rs`, `ConfigLoader::proxy_url`) matches `NO_PROXY`
//! against the *proxy's* URL instead of the API server's and proxies loopback servers, so c8dr
//! computes the proxy itself (found by the real-stack tier's proxy checks).

use std::net::IpAddr;

/// The proxy for `server` (the cluster URL), given the kubeconfig cluster's `proxy-url` and a
/// way to read the environment. `None`: connect directly.
pub fn proxy_for(
    server: &http::Uri,
    kubeconfig_proxy: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    if let Some(p) = kubeconfig_proxy.filter(|p| !p.trim().is_empty()) {
        return Some(p.to_string());
    }
    let var = |upper: &str, lower: &str| {
        env(upper)
            .filter(|v| !v.trim().is_empty())
            .or_else(|| env(lower).filter(|v| !v.trim().is_empty()))
    };
    let https = server.scheme_str() != Some("http");
    let proxy = if https {
        var("HTTPS_PROXY", "https_proxy")?
    } else {
        var("HTTP_PROXY", "http_proxy")?
    };
    let host = server.host()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = server.port_u16().unwrap_or(if https { 443 } else { 80 });
    if !use_proxy(host, port, var("NO_PROXY", "no_proxy").as_deref()) {
        return None;
    }
    // Go accepts a proxy without a scheme and takes it as http://.
    Some(if proxy.contains("://") {
        proxy
    } else {
        format!("http://{proxy}")
    })
}

/// Go's `useProxy`: whether a request to `host:port` goes through the proxy.
fn use_proxy(host: &str, port: u16, no_proxy: Option<&str>) -> bool {
    let host = host.to_ascii_lowercase();
    if host == "localhost" {
        return false;
    }
    let ip = host.parse::<IpAddr>().ok();
    if ip.is_some_and(|ip| ip.is_loopback()) {
        return false;
    }
    let Some(no_proxy) = no_proxy else {
        return true;
    };
    for entry in no_proxy.split(',') {
        let entry = entry.trim().to_ascii_lowercase();
        if entry.is_empty() {
            continue;
        }
        if entry == "*" {
            return false;
        }
        if let Some((net, bits)) = entry.split_once('/') {
            if let (Some(ip), Ok(net), Ok(bits)) = (ip, net.parse::<IpAddr>(), bits.parse::<u8>())
                && in_cidr(ip, net, bits)
            {
                return false;
            }
            continue;
        }
        let (name, entry_port) = split_port(&entry);
        if entry_port.is_some_and(|p| p != port) {
            continue;
        }
        if let Ok(entry_ip) = name.parse::<IpAddr>() {
            if ip == Some(entry_ip) {
                return false;
            }
            continue;
        }
        let name = name.strip_prefix('*').unwrap_or(name);
        let matches = match name.strip_prefix('.') {
            // `.example.com`: subdomains only.
            Some(suffix) => host.ends_with(&format!(".{suffix}")),
            // `example.com`: the name and its subdomains.
            None => host == name || host.ends_with(&format!(".{name}")),
        };
        if matches {
            return false;
        }
    }
    true
}

/// `host:port`, `[v6]:port`, or a bare host/IP (an IPv6 address without brackets has no port).
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, tail)) => (ip, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (entry, None),
        };
    }
    match entry.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(port) => (h, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(server: &str, kubeconfig: Option<&str>, vars: &[(&str, &str)]) -> Option<String> {
        let server: http::Uri = server.parse().expect("uri");
        proxy_for(&server, kubeconfig, |k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
    }

    const P: (&str, &str) = ("HTTPS_PROXY", "http://proxy.corp:3128");

    #[test]
    fn an_https_api_server_goes_through_https_proxy_unless_no_proxy_names_it() {
        let s = "https://10.1.2.3:6443";
        assert_eq!(
            proxy(s, None, &[P]).as_deref(),
            Some("http://proxy.corp:3128")
        );
        for no in [
            "10.1.2.3",
            "10.1.2.3:6443",
            "10.0.0.0/8",
            "*",
            "other, 10.1.2.3",
        ] {
            assert_eq!(proxy(s, None, &[P, ("NO_PROXY", no)]), None, "{no}");
        }
        // NO_PROXY naming the proxy (kube-rs 5.0.0 compares against it) does not switch it off.
        assert!(proxy(s, None, &[P, ("NO_PROXY", "proxy.corp")]).is_some());
        assert!(proxy(s, None, &[P, ("NO_PROXY", "10.1.2.3:443")]).is_some());
        assert!(proxy(s, None, &[P, ("NO_PROXY", "10.2.0.0/16")]).is_some());
    }

    #[test]
    fn loopback_and_localhost_are_never_proxied() {
        for s in [
            "https://127.0.0.1:6443",
            "https://127.0.0.2:6443",
            "https://localhost:6443",
            "https://[::1]:6443",
        ] {
            assert_eq!(proxy(s, None, &[P]), None, "{s}");
        }
    }

    #[test]
    fn domains_match_themselves_and_subdomains_a_leading_dot_only_subdomains() {
        let vars = |no: &'static str| [P, ("no_proxy", no)];
        assert_eq!(
            proxy("https://k8s.corp.example:443", None, &vars("corp.example")),
            None
        );
        assert_eq!(
            proxy("https://corp.example", None, &vars("corp.example")),
            None
        );
        assert_eq!(
            proxy("https://k8s.corp.example", None, &vars(".corp.example")),
            None
        );
        assert!(proxy("https://corp.example", None, &vars(".corp.example")).is_some());
        assert!(proxy("https://notcorp.example", None, &vars("corp.example")).is_some());
        assert_eq!(
            proxy("https://K8S.Corp.Example", None, &vars("*.corp.example")),
            None
        );
    }

    #[test]
    fn the_kubeconfig_proxy_wins_and_plain_http_uses_http_proxy() {
        assert_eq!(
            proxy("https://127.0.0.1:6443", Some("socks5://jump:1080"), &[P]).as_deref(),
            Some("socks5://jump:1080")
        );
        assert_eq!(proxy("http://10.0.0.1:8080", None, &[P]), None);
        assert_eq!(
            proxy("http://10.0.0.1:8080", None, &[("http_proxy", "proxy:80")]).as_deref(),
            Some("http://proxy:80")
        );
        assert_eq!(
            proxy("https://10.0.0.1", None, &[("HTTPS_PROXY", " ")]),
            None
        );
    }
}
