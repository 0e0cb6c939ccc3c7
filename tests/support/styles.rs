//! A generator of YAML styles for `tests/styles.rs`: one kubeconfig, as a small tree, written
//! out in many of the forms kubectl reads (block and flow, quoting, explicit keys, tags,
//! anchors, aliases and merge keys, JSON, CRLF, a BOM, no final newline, comments, indents).

/// A value of the tree.
#[derive(Clone, Debug)]
pub enum V {
    /// A string (quoted as the style says; plain only where that reads back as a string).
    S(String),
    B(bool),
    M(Vec<(String, V)>),
    L(Vec<V>),
    /// `&name value`.
    Anchor(&'static str, Box<V>),
    /// `*name`.
    Alias(&'static str),
}

pub fn s(text: &str) -> V {
    V::S(text.to_string())
}

pub fn m(entries: Vec<(&str, V)>) -> V {
    V::M(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

pub fn anchor(name: &'static str, v: V) -> V {
    V::Anchor(name, Box::new(v))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quote {
    Plain,
    Single,
    Double,
}

/// How to write the tree.
#[derive(Clone, Debug)]
pub struct Style {
    pub name: String,
    /// Collections at this depth and deeper are written in flow style (0: the whole document).
    pub flow_depth: usize,
    /// Flow collections with one entry per line.
    pub flow_lines: bool,
    /// JSON: the whole document in flow style, every key and string double-quoted.
    pub json: bool,
    pub values: Quote,
    pub keys: Quote,
    /// Block keys written `? key` / `: value`.
    pub explicit_keys: bool,
    /// `!!str` on every string key and value.
    pub tags: bool,
    pub indent: usize,
    /// Block lists indented under their key (`key:` / `  - a`), not at its column.
    pub indent_lists: bool,
    /// A comment line before every entry, and a comment after every block scalar.
    pub comments: bool,
    pub crlf: bool,
    pub bom: bool,
    pub final_newline: bool,
}

impl Style {
    pub fn block(name: &str) -> Style {
        Style {
            name: name.to_string(),
            flow_depth: usize::MAX,
            flow_lines: false,
            json: false,
            values: Quote::Plain,
            keys: Quote::Plain,
            explicit_keys: false,
            tags: false,
            indent: 2,
            indent_lists: false,
            comments: false,
            crlf: false,
            bom: false,
            final_newline: true,
        }
    }

    /// The tree as text in this style.
    pub fn render(&self, v: &V) -> String {
        let mut out = String::new();
        if self.flow_depth == 0 || self.json {
            out.push_str(&self.flow(v, 0, 0));
            out.push('\n');
        } else {
            let V::M(entries) = v else {
                panic!("the root is a mapping")
            };
            self.block_map(&mut out, entries, 0, 0);
        }
        if self.crlf {
            out = out.replace('\n', "\r\n");
        }
        if !self.final_newline {
            while out.ends_with(['\n', '\r']) {
                out.pop();
            }
        }
        if self.bom {
            out.insert(0, '\u{feff}');
        }
        out
    }

    fn plain_ok(text: &str) -> bool {
        let special = [
            "true", "false", "yes", "no", "on", "off", "null", "y", "n", "~", "",
        ];
        !special.contains(&text.to_ascii_lowercase().as_str())
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-./:_+=".contains(c))
            && text.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '/')
            && !text.chars().all(|c| c.is_ascii_digit() || c == '.')
    }

    fn scalar(&self, text: &str, quote: Quote, tag: bool) -> String {
        let quote = if self.json { Quote::Double } else { quote };
        let body = match quote {
            Quote::Plain if Self::plain_ok(text) => text.to_string(),
            Quote::Single => format!("'{}'", text.replace('\'', "''")),
            _ => serde_json::to_string(text).unwrap(),
        };
        if tag && self.tags && !self.json {
            format!("!!str {body}")
        } else {
            body
        }
    }

    fn key(&self, k: &str) -> String {
        if k == "<<" {
            return k.to_string(); // quoted, it would be no merge key
        }
        self.scalar(k, self.keys, true)
    }

    /// A scalar, alias or flow collection, as written after `key: ` or `- `.
    fn inline(&self, v: &V, depth: usize, col: usize) -> String {
        match v {
            V::S(t) => self.scalar(t, self.values, true),
            V::B(b) => b.to_string(),
            V::Alias(a) => format!("*{a}"),
            V::Anchor(a, inner) => format!("&{a} {}", self.inline(inner, depth, col)),
            V::M(_) | V::L(_) => self.flow(v, depth, col),
        }
    }

    fn is_block(&self, v: &V, depth: usize) -> bool {
        match v {
            V::M(e) => depth < self.flow_depth && !e.is_empty() && !self.json,
            V::L(i) => depth < self.flow_depth && !i.is_empty() && !self.json,
            V::Anchor(_, inner) => self.is_block(inner, depth),
            _ => false,
        }
    }

    fn flow(&self, v: &V, depth: usize, col: usize) -> String {
        let (open, close, parts): (&str, &str, Vec<String>) = match v {
            V::M(entries) => (
                "{",
                "}",
                entries
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{}: {}",
                            self.key(k),
                            self.inline(v, depth + 1, col + self.indent)
                        )
                    })
                    .collect(),
            ),
            V::L(items) => (
                "[",
                "]",
                items
                    .iter()
                    .map(|v| self.inline(v, depth + 1, col + self.indent))
                    .collect(),
            ),
            other => return self.inline(other, depth, col),
        };
        let multi = (self.flow_lines || self.json) && parts.len() > 1 && matches!(v, V::M(_));
        if !multi {
            return format!("{open}{}{close}", parts.join(", "));
        }
        let pad = " ".repeat(col + self.indent);
        let mut out = format!("{open}\n");
        for (i, p) in parts.iter().enumerate() {
            if self.comments && !self.json {
                out.push_str(&format!("{pad}# entry {i}\n"));
            }
            out.push_str(&pad);
            out.push_str(p);
            if i + 1 < parts.len() {
                out.push(',');
            }
            out.push('\n');
        }
        out.push_str(&" ".repeat(col));
        out.push_str(close);
        out
    }

    fn comment_after(&self) -> &'static str {
        if self.comments {
            "  # note"
        } else {
            ""
        }
    }

    fn block_map(&self, out: &mut String, entries: &[(String, V)], col: usize, depth: usize) {
        let pad = " ".repeat(col);
        for (k, v) in entries {
            if self.comments {
                out.push_str(&format!("{pad}# about the next entry\n"));
            }
            let key = self.key(k);
            let (anchor, inner) = match v {
                V::Anchor(a, inner) if self.is_block(inner, depth + 1) => {
                    (format!(" &{a}"), inner.as_ref())
                }
                _ => (String::new(), v),
            };
            let explicit = self.explicit_keys && k != "<<";
            if explicit {
                out.push_str(&format!("{pad}? {key}\n{pad}:"));
            } else {
                out.push_str(&format!("{pad}{key}:"));
            }
            if self.is_block(inner, depth + 1) {
                out.push_str(&anchor);
                out.push('\n');
                match inner {
                    V::M(e) => self.block_map(out, e, col + self.indent, depth + 1),
                    V::L(items) => {
                        let c = if self.indent_lists {
                            col + self.indent
                        } else {
                            col
                        };
                        self.block_list(out, items, c, depth + 1)
                    }
                    _ => unreachable!(),
                }
            } else {
                let text = self.inline(inner, depth + 1, col);
                out.push_str(&format!(" {text}{}\n", self.comment_after()));
            }
        }
    }

    fn block_list(&self, out: &mut String, items: &[V], col: usize, depth: usize) {
        let pad = " ".repeat(col);
        for item in items {
            if self.is_block(item, depth + 1) {
                let V::M(e) = item else {
                    panic!("lists of lists are not generated")
                };
                let mut inner = String::new();
                self.block_map(&mut inner, e, col + 2, depth + 1);
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&inner[col + 2..]);
            } else {
                out.push_str(&format!(
                    "{pad}- {}{}\n",
                    self.inline(item, depth + 1, col + 2),
                    self.comment_after()
                ));
            }
        }
    }
}

/// The styles every case is written in.
pub fn styles() -> Vec<Style> {
    let b = Style::block;
    let mut out = vec![b("block")];
    let mut add = |name: &str, f: &dyn Fn(&mut Style)| {
        let mut s = b(name);
        f(&mut s);
        out.push(s);
    };
    add("block-indent4-lists", &|s| {
        s.indent = 4;
        s.indent_lists = true;
    });
    add("double-quoted", &|s| s.values = Quote::Double);
    add("single-quoted", &|s| s.values = Quote::Single);
    add("quoted-keys", &|s| {
        s.keys = Quote::Double;
        s.values = Quote::Single;
    });
    add("explicit-keys", &|s| s.explicit_keys = true);
    add("tags", &|s| s.tags = true);
    add("comments", &|s| s.comments = true);
    add("crlf", &|s| s.crlf = true);
    add("bom-no-final-newline", &|s| {
        s.bom = true;
        s.final_newline = false;
    });
    add("crlf-comments-no-final-newline", &|s| {
        s.crlf = true;
        s.comments = true;
        s.final_newline = false;
    });
    add("flow-bodies", &|s| s.flow_depth = 3);
    add("flow-bodies-lines-comments", &|s| {
        s.flow_depth = 3;
        s.flow_lines = true;
        s.comments = true;
    });
    add("flow-items", &|s| s.flow_depth = 2);
    add("flow-document", &|s| s.flow_depth = 0);
    add("flow-document-lines", &|s| {
        s.flow_depth = 0;
        s.flow_lines = true;
    });
    add("json", &|s| s.json = true);
    add("json-crlf-no-final-newline", &|s| {
        s.json = true;
        s.crlf = true;
        s.final_newline = false;
    });
    add("flow-bodies-double-quoted-keys", &|s| {
        s.flow_depth = 3;
        s.keys = Quote::Double;
        s.values = Quote::Double;
    });
    add("explicit-keys-comments-indent4", &|s| {
        s.explicit_keys = true;
        s.comments = true;
        s.indent = 4;
    });
    add("tags-single-quoted-flow-bodies", &|s| {
        s.tags = true;
        s.values = Quote::Single;
        s.flow_depth = 3;
    });
    add("tags-explicit-keys-crlf", &|s| {
        s.tags = true;
        s.explicit_keys = true;
        s.crlf = true;
    });
    out
}
