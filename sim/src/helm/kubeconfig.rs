//! Finding a region's API server through the kube context, as helm does.

use serde_json::Value;

use super::values::parse_yaml_file;

/// The API server URL and namespace of a kube context, read from `$KUBECONFIG` (a list of files,
/// as kubectl reads it; the first file defining a name wins).
pub fn kube_server(
    kubeconfig: &str,
    context: Option<&str>,
) -> Result<(String, Option<String>), String> {
    let mut docs = vec![];
    for file in std::env::split_paths(kubeconfig) {
        if file.as_os_str().is_empty() {
            continue;
        }
        docs.push(parse_yaml_file(&file)?);
    }
    let find = |section: &str, name: &str| -> Option<Value> {
        docs.iter().find_map(|d| {
            d[section]
                .as_array()?
                .iter()
                .find_map(|e| (e["name"].as_str() == Some(name)).then(|| e.clone()))
        })
    };
    let current = docs
        .iter()
        .find_map(|d| d["current-context"].as_str().map(String::from));
    let name = context
        .map(String::from)
        .or(current)
        .ok_or("invalid configuration: no configuration has been provided")?;
    let ctx =
        find("contexts", &name).ok_or_else(|| format!("context \"{name}\" does not exist"))?;
    let cluster_name = ctx["context"]["cluster"].as_str().unwrap_or_default();
    let cluster = find("clusters", cluster_name)
        .ok_or_else(|| format!("cluster \"{cluster_name}\" does not exist"))?;
    let server = cluster["cluster"]["server"]
        .as_str()
        .ok_or_else(|| format!("cluster \"{cluster_name}\" has no server"))?;
    Ok((
        server.to_string(),
        ctx["context"]["namespace"].as_str().map(String::from),
    ))
}
