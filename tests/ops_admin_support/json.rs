//! JSON that keeps the order of object keys (serde_json's own map sorts
//! them, and the order is part of what is compared).

/// JSON with the order of object keys kept (serde_json's own map sorts).
#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> serde::Deserialize<'de> for J {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<J, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<J, E> {
                Ok(J::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<J, E> {
                Ok(J::Int(n))
            }
            fn visit_u64<E>(self, n: u64) -> Result<J, E> {
                Ok(J::Int(n as i64))
            }
            fn visit_f64<E>(self, x: f64) -> Result<J, E> {
                Ok(J::Float(x))
            }
            fn visit_str<E>(self, s: &str) -> Result<J, E> {
                Ok(J::Str(s.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(J::Arr(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, J>()? {
                    v.push((k, x));
                }
                Ok(J::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl J {
    pub fn parse(s: &str) -> Result<J, serde_json::Error> {
        serde_json::from_str(s)
    }

    /// The value at a `/`-separated path of keys (or array indexes).
    pub fn at(&self, path: &str) -> Option<&J> {
        path.split('/')
            .filter(|p| !p.is_empty())
            .try_fold(self, |j, p| match j {
                J::Obj(kv) => kv.iter().find(|(k, _)| k == p).map(|(_, v)| v),
                J::Arr(v) => v.get(p.parse::<usize>().ok()?),
                _ => None,
            })
    }

    pub fn keys(&self) -> Vec<&str> {
        match self {
            J::Obj(kv) => kv.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// Keys, nesting, order and types, not values: numeric keys (session
    /// ids, expiry times, server ids) as `#`; an array as its first element.
    pub fn shape(&self) -> String {
        match self {
            J::Null => "null".into(),
            J::Bool(_) => "bool".into(),
            J::Int(_) => "int".into(),
            J::Float(_) => "float".into(),
            J::Str(_) => "str".into(),
            J::Arr(v) => match v.first() {
                Some(x) => format!("[{}]", x.shape()),
                None => "[]".into(),
            },
            J::Obj(kv) => {
                let inner: Vec<String> = kv
                    .iter()
                    .map(|(k, v)| {
                        let k = if k.chars().all(|c| c.is_ascii_digit()) {
                            "#"
                        } else {
                            k
                        };
                        format!("{k}:{}", v.shape())
                    })
                    .collect();
                format!("{{{}}}", inner.join(","))
            }
        }
    }
}
