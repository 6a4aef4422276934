//! A small writer of Tile IR text for tests: numbered values, and the pointer-tensor
//! boilerplate of 1-D and 2-D accesses.

#![allow(dead_code)]

pub struct Tile {
    head: String,
    lines: Vec<String>,
    next: usize,
}

impl Tile {
    /// `params` as in the text form: `"%x: ptr<f32> {arg=0, div16}, %n: i32 {arg=1}"`.
    pub fn new(name: &str, params: &str) -> Tile {
        Tile {
            head: format!("tt.func @{name}({params}) {{"),
            lines: Vec::new(),
            next: 0,
        }
    }

    /// Adds `%N = <rhs>` and returns `%N`.
    pub fn v(&mut self, rhs: &str) -> String {
        let name = format!("%v{}", self.next);
        self.next += 1;
        self.lines.push(format!("  {name} = {rhs}"));
        name
    }

    /// Adds `%N, %M = <rhs>`.
    pub fn v2(&mut self, rhs: &str) -> (String, String) {
        let (a, b) = (format!("%v{}", self.next), format!("%v{}", self.next + 1));
        self.next += 2;
        self.lines.push(format!("  {a}, {b} = {rhs}"));
        (a, b)
    }

    /// A line with no result, or a region's text.
    pub fn raw(&mut self, line: &str) {
        self.lines.push(format!("  {line}"));
    }

    pub fn fresh(&mut self) -> String {
        let name = format!("%v{}", self.next);
        self.next += 1;
        name
    }

    pub fn finish(mut self) -> String {
        self.lines.push("  return".into());
        format!("{}\n{}\n}}\n", self.head, self.lines.join("\n"))
    }

    /// `base + arange(0, n) + off` as a tensor of pointers to `elem`.
    pub fn ptr1d(&mut self, base: &str, n: u32, elem: &str) -> String {
        let r = self.v(&format!(
            "make_range {{start=0, end={n}}} : tensor<{n}xi32>"
        ));
        let p = self.v(&format!("splat {base} : tensor<{n}xptr<{elem}>>"));
        self.v(&format!("addptr {p}, {r} : tensor<{n}xptr<{elem}>>"))
    }

    /// Offsets `i * row_stride + j * col_stride` of a `rows × cols` tensor.
    pub fn offs2d(&mut self, rows: u32, cols: u32, row_stride: u32, col_stride: u32) -> String {
        let ri = self.v(&format!(
            "make_range {{start=0, end={rows}}} : tensor<{rows}xi32>"
        ));
        let ci = self.v(&format!(
            "make_range {{start=0, end={cols}}} : tensor<{cols}xi32>"
        ));
        let r2 = self.v(&format!(
            "expand_dims {{axis=1}} {ri} : tensor<{rows}x1xi32>"
        ));
        let c2 = self.v(&format!(
            "expand_dims {{axis=0}} {ci} : tensor<1x{cols}xi32>"
        ));
        let rs = self.v(&format!(
            "constant {{value={row_stride}}} : tensor<{rows}x1xi32>"
        ));
        let cs = self.v(&format!(
            "constant {{value={col_stride}}} : tensor<1x{cols}xi32>"
        ));
        let r3 = self.v(&format!("mul {r2}, {rs} : tensor<{rows}x1xi32>"));
        let c3 = self.v(&format!("mul {c2}, {cs} : tensor<1x{cols}xi32>"));
        let rb = self.v(&format!("broadcast {r3} : tensor<{rows}x{cols}xi32>"));
        let cb = self.v(&format!("broadcast {c3} : tensor<{rows}x{cols}xi32>"));
        self.v(&format!("add {rb}, {cb} : tensor<{rows}x{cols}xi32>"))
    }

    /// Pointers to a row-major `rows × cols` block at `base`.
    pub fn ptr2d(&mut self, base: &str, rows: u32, cols: u32, elem: &str) -> String {
        self.ptr2d_strided(base, rows, cols, cols, 1, elem)
    }

    pub fn ptr2d_strided(
        &mut self,
        base: &str,
        rows: u32,
        cols: u32,
        row_stride: u32,
        col_stride: u32,
        elem: &str,
    ) -> String {
        let o = self.offs2d(rows, cols, row_stride, col_stride);
        let p = self.v(&format!("splat {base} : tensor<{rows}x{cols}xptr<{elem}>>"));
        self.v(&format!(
            "addptr {p}, {o} : tensor<{rows}x{cols}xptr<{elem}>>"
        ))
    }

    /// Pointers to a row-major `d0 × d1 × d2` block at `base`.
    pub fn ptr3d(&mut self, base: &str, d: [u32; 3], elem: &str) -> String {
        let [a, b, c] = d;
        let mut axes = Vec::new();
        for (k, &n) in d.iter().enumerate() {
            let r = self.v(&format!(
                "make_range {{start=0, end={n}}} : tensor<{n}xi32>"
            ));
            let mut shape = vec![1u32; 3];
            shape[k] = n;
            let mut cur = r;
            let mut cur_shape = vec![n];
            for ax in 0..3 {
                if ax != k {
                    let pos = if ax < k { 0 } else { cur_shape.len() };
                    cur_shape.insert(pos, 1);
                    let s = dims(&cur_shape);
                    cur = self.v(&format!(
                        "expand_dims {{axis={pos}}} {cur} : tensor<{s}xi32>"
                    ));
                }
            }
            let stride = [b * c, c, 1][k];
            let s = dims(&shape);
            let st = self.v(&format!("constant {{value={stride}}} : tensor<{s}xi32>"));
            let m = self.v(&format!("mul {cur}, {st} : tensor<{s}xi32>"));
            let full = self.v(&format!("broadcast {m} : tensor<{a}x{b}x{c}xi32>"));
            axes.push(full);
        }
        let t = format!("tensor<{a}x{b}x{c}xi32>");
        let s01 = self.v(&format!("add {}, {} : {t}", axes[0], axes[1]));
        let o = self.v(&format!("add {s01}, {} : {t}", axes[2]));
        let p = self.v(&format!("splat {base} : tensor<{a}x{b}x{c}xptr<{elem}>>"));
        self.v(&format!(
            "addptr {p}, {o} : tensor<{a}x{b}x{c}xptr<{elem}>>"
        ))
    }
}

pub fn dims(s: &[u32]) -> String {
    s.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}
