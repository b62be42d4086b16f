//! `c8dr-sim-helm`: a `helm` stand-in that applies `upgrade --install` to a running simulator.
//! Point `HELM_BIN` at it. Logic in `c8dr_sim::helm`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = c8dr_sim::helm::run_cli(&args, &|k| std::env::var(k).ok());
    std::process::exit(code);
}
