//! Print the SIMT IR of a Tile IR file: `cargo run -p tm-simt --example simt_dump FILE [lavapipe]`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: simt_dump FILE.tile [apple|lavapipe] [num_warps]");
        return;
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let f = match tm_tile::parse(&text) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e:?}");
            return;
        }
    };
    let target = match args.get(2).map(String::as_str) {
        Some("lavapipe") => tm_core::Target::lavapipe(),
        _ => tm_core::Target::apple(),
    };
    let nw = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(4);
    match tm_simt::assign_for(&f, &target, nw) {
        Ok(a) => print!("{}", tm_simt::print_assignment(&f, &a)),
        Err(e) => eprintln!("{e}"),
    }
    match tm_simt::lower(&f, &target, nw) {
        Ok(k) => print!("{}", tm_simt::print(&k)),
        Err(e) => eprintln!("error: {e}"),
    }
}
