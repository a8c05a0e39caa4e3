//! `wecom-kf`: placeholder until the CLI lands.
fn main() {}
