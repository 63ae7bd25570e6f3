//! Compiles `jute/*.jute` (Apache ZooKeeper's Jute IDL) into Rust.
//!
//! For every `module a.b.c { class X { type field; ... } }` we emit
//! `pub mod c { pub struct X { pub field: T, ... } impl Jute for X {...} }`
//! into `$OUT_DIR/jute_records.rs`, which `src/proto/records.rs` includes.
//! The generated code only strings together calls to the `Jute` trait; the
//! primitive encodings live in `src/proto/jute.rs`, so the wire format is
//! written by hand in exactly one place.

use std::fmt::Write as _;
use std::{env, fs, path::Path};

#[derive(Debug)]
enum Ty {
    Int,
    Long,
    Bool,
    UString,
    Buffer,
    Vector(Box<Ty>),
    Record {
        module: Option<String>,
        name: String,
    },
}

struct Field {
    ty: Ty,
    name: String,
}

struct Class {
    name: String,
    fields: Vec<Field>,
}

struct Module {
    name: String,
    classes: Vec<Class>,
}

/// Splits the IDL into tokens: identifiers (with dots), and single punctuation characters.
fn tokenize(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = src.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '/' {
            chars.next();
            match chars.peek() {
                Some('/') => {
                    for c in chars.by_ref() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                Some('*') => {
                    chars.next();
                    let mut prev = ' ';
                    for c in chars.by_ref() {
                        if prev == '*' && c == '/' {
                            break;
                        }
                        prev = c;
                    }
                }
                _ => panic!("jute: stray '/'"),
            }
        } else if c.is_alphanumeric() || c == '_' || c == '.' {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_alphanumeric() || c == '_' || c == '.' {
                    word.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(word);
        } else {
            out.push(c.to_string());
            chars.next();
        }
    }
    out
}

struct Parser {
    toks: Vec<String>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> String {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .unwrap_or_else(|| panic!("jute: unexpected end of input"));
        self.pos += 1;
        t
    }
    fn expect(&mut self, want: &str) {
        let got = self.next();
        assert_eq!(got, want, "jute: expected '{want}', found '{got}'");
    }
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }
    fn ty(&mut self) -> Ty {
        let t = self.next();
        match t.as_str() {
            "int" => Ty::Int,
            "long" => Ty::Long,
            "boolean" => Ty::Bool,
            "ustring" => Ty::UString,
            "buffer" => Ty::Buffer,
            "vector" => {
                self.expect("<");
                let inner = self.ty();
                self.expect(">");
                Ty::Vector(Box::new(inner))
            }
            other => match other.rsplit_once('.') {
                Some((path, name)) => Ty::Record {
                    module: Some(path.rsplit('.').next().unwrap().to_string()),
                    name: name.to_string(),
                },
                None => Ty::Record {
                    module: None,
                    name: other.to_string(),
                },
            },
        }
    }
    fn modules(&mut self) -> Vec<Module> {
        let mut mods = Vec::new();
        while self.peek().is_some() {
            self.expect("module");
            let full = self.next();
            let name = full.rsplit('.').next().unwrap().to_string();
            self.expect("{");
            let mut classes = Vec::new();
            while self.peek() != Some("}") {
                self.expect("class");
                let cname = self.next();
                self.expect("{");
                let mut fields = Vec::new();
                while self.peek() != Some("}") {
                    let ty = self.ty();
                    let fname = self.next();
                    self.expect(";");
                    fields.push(Field { ty, name: fname });
                }
                self.expect("}");
                classes.push(Class {
                    name: cname,
                    fields,
                });
            }
            self.expect("}");
            mods.push(Module { name, classes });
        }
        mods
    }
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    match out.as_str() {
        "type" => "r#type".to_string(),
        _ => out,
    }
}

fn rust_ty(ty: &Ty) -> String {
    match ty {
        Ty::Int => "i32".into(),
        Ty::Long => "i64".into(),
        Ty::Bool => "bool".into(),
        Ty::UString => "String".into(),
        Ty::Buffer => "Option<Bytes>".into(),
        Ty::Vector(inner) => format!("Vec<{}>", rust_ty(inner)),
        Ty::Record {
            module: Some(m),
            name,
        } => format!("super::{m}::{name}"),
        Ty::Record { module: None, name } => name.clone(),
    }
}

fn generate(mods: &[Module]) -> String {
    let mut out = String::new();
    for m in mods {
        writeln!(out, "/// Records of Jute module `{}`.", m.name).unwrap();
        writeln!(
            out,
            "#[allow(missing_docs, clippy::all)]\npub mod {} {{",
            m.name
        )
        .unwrap();
        writeln!(
            out,
            "    #[allow(unused_imports)]\n    use bytes::{{Bytes, BytesMut}};"
        )
        .unwrap();
        writeln!(out, "    use crate::jute::{{DecodeError, Jute}};\n").unwrap();
        for c in &m.classes {
            writeln!(out, "    /// Jute record `{}.{}`.", m.name, c.name).unwrap();
            writeln!(
                out,
                "    #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]"
            )
            .unwrap();
            writeln!(out, "    pub struct {} {{", c.name).unwrap();
            for f in &c.fields {
                writeln!(out, "        pub {}: {},", snake(&f.name), rust_ty(&f.ty)).unwrap();
            }
            writeln!(out, "    }}\n").unwrap();
            writeln!(out, "    impl Jute for {} {{", c.name).unwrap();
            writeln!(out, "        fn encode(&self, out: &mut BytesMut) {{").unwrap();
            if c.fields.is_empty() {
                writeln!(out, "            let _ = out;").unwrap();
            }
            for f in &c.fields {
                writeln!(out, "            self.{}.encode(out);", snake(&f.name)).unwrap();
            }
            writeln!(out, "        }}").unwrap();
            writeln!(
                out,
                "        fn decode(src: &mut Bytes) -> Result<Self, DecodeError> {{"
            )
            .unwrap();
            writeln!(out, "            Ok(Self {{").unwrap();
            for f in &c.fields {
                writeln!(
                    out,
                    "                {}: Jute::decode(src)?,",
                    snake(&f.name)
                )
                .unwrap();
            }
            writeln!(out, "            }})\n        }}\n    }}\n").unwrap();
        }
        writeln!(out, "}}\n").unwrap();
    }
    out
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../jute");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut paths: Vec<_> = fs::read_dir(dir)
        .expect("jute/ directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jute"))
        .collect();
    paths.sort();
    let mut code = String::from("// @generated by build.rs from jute/*.jute. Do not edit.\n\n");
    for p in paths {
        println!("cargo:rerun-if-changed={}", p.display());
        let src = fs::read_to_string(&p).unwrap();
        let mut parser = Parser {
            toks: tokenize(&src),
            pos: 0,
        };
        code.push_str(&generate(&parser.modules()));
    }
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("jute_records.rs");
    fs::write(out, code).unwrap();
}
