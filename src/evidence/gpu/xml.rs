//! A restricted XML parser and canonicalizer for exactly the profile NVIDIA
//! RIMs use: namespaced elements, attributes and character data, signed with
//! an enveloped XMLDSig signature canonicalized with C14N 1.1 (no comments).
//!
//! Why not a general XML library: a signature check is only as good as the
//! agreement between what was signed and what we read. This parser accepts a
//! small, explicit grammar and rejects everything else, so that the tree we
//! canonicalize and hash is exactly the tree we later read golden values
//! from, and no XML feature with surprising semantics can slip in:
//!
//! * rejected: DOCTYPE and any `<!…>` markup (so also comments and CDATA
//!   sections), processing instructions, entity references other than the
//!   five predefined ones, literal carriage returns, `xml:*` attributes,
//!   `xmlns=""` and empty prefixed namespace declarations, unbound prefixes,
//!   duplicate attributes, non-whitespace text outside the root element,
//!   non-ASCII names, control characters, nesting deeper than [`MAX_DEPTH`],
//!   documents larger than [`MAX_LEN`];
//! * accepted: an optional leading `<?xml version="1.0" …?>` declaration
//!   (dropped by canonicalization, as C14N requires).
//!
//! Canonicalization follows W3C Canonical XML 1.1 for an element subtree of
//! a document without comments: in-scope namespace declarations rendered on
//! the apex element, then only the ones that change; namespace declarations
//! sorted by prefix (default first); attributes sorted by namespace URI then
//! local name; empty elements as start/end tag pairs; the C14N escaping of
//! text and attribute values. Because `xml:*` attributes are rejected, the
//! differences between C14N 1.0 and 1.1 (inheritance of `xml:` attributes
//! into document subsets) cannot arise.

use std::collections::BTreeMap;

/// Largest document accepted (the real RIMs are about 20 KiB).
pub const MAX_LEN: usize = 4 * 1024 * 1024;
/// Deepest element nesting accepted (the real RIMs nest 5 deep).
pub const MAX_DEPTH: usize = 32;

/// An attribute (namespace declarations are kept apart, see [`Element`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub prefix: Option<String>,
    pub local: String,
    /// Namespace URI (`None` for unprefixed attributes).
    pub ns: Option<String>,
    /// Normalized, unescaped value.
    pub value: String,
}

impl Attr {
    fn qname(&self) -> String {
        match &self.prefix {
            Some(p) => format!("{p}:{}", self.local),
            None => self.local.clone(),
        }
    }
}

/// A child of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

/// An element with its namespace context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub prefix: Option<String>,
    pub local: String,
    /// Namespace URI of the element (`None`: no namespace).
    pub ns: Option<String>,
    /// Attributes in document order (without `xmlns` declarations).
    pub attrs: Vec<Attr>,
    /// Namespaces in scope here: prefix (`""` for the default) → URI.
    pub in_scope: BTreeMap<String, String>,
    pub children: Vec<Node>,
}

impl Element {
    /// Whether this element is `{ns}local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.local == local
    }

    /// Child elements in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Concatenated text children.
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|c| match c {
                Node::Text(t) => Some(t.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }

    /// Whether every text child is whitespace.
    pub fn only_whitespace_text(&self) -> bool {
        self.children.iter().all(|c| match c {
            Node::Text(t) => t.chars().all(is_ws),
            Node::Element(_) => true,
        })
    }

    /// Value of the attribute `{ns}local` (`ns = None`: unprefixed).
    pub fn attr(&self, ns: Option<&str>, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.as_deref() == ns && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// `prefix:local` as written.
    pub fn qname(&self) -> String {
        match &self.prefix {
            Some(p) => format!("{p}:{}", self.local),
            None => self.local.clone(),
        }
    }
}

/// A parse error with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("XML at byte {pos}: {reason}")]
pub struct XmlError {
    pub pos: usize,
    pub reason: String,
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n')
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
}

/// A raw start tag before namespace resolution.
struct RawTag {
    qname: String,
    attrs: Vec<(String, String)>,
    empty: bool,
}

impl<'a> Parser<'a> {
    fn err<T>(&self, reason: impl Into<String>) -> Result<T, XmlError> {
        Err(XmlError {
            pos: self.pos,
            reason: reason.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn starts_with(&self, p: &str) -> bool {
        self.b[self.pos..].starts_with(p.as_bytes())
    }

    fn skip_ws(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn expect(&mut self, lit: &str) -> Result<(), XmlError> {
        if self.starts_with(lit) {
            self.pos += lit.len();
            Ok(())
        } else {
            self.err(format!("expected {lit:?}"))
        }
    }

    /// An NCName (ASCII only).
    fn ncname(&mut self) -> Result<String, XmlError> {
        let start = self.pos;
        match self.peek() {
            Some(b) if is_name_start(b) => self.pos += 1,
            _ => return self.err("expected a name (ASCII letter or '_')"),
        }
        while matches!(self.peek(), Some(b) if is_name_char(b)) {
            self.pos += 1;
        }
        Ok(self.s[start..self.pos].to_string())
    }

    /// `NCName (':' NCName)?`
    fn qname(&mut self) -> Result<String, XmlError> {
        let mut n = self.ncname()?;
        if self.peek() == Some(b':') {
            self.pos += 1;
            n.push(':');
            n.push_str(&self.ncname()?);
        }
        Ok(n)
    }

    /// The optional `<?xml version="1.0" …?>` declaration.
    fn declaration(&mut self) -> Result<(), XmlError> {
        if !self.starts_with("<?xml") {
            return Ok(());
        }
        let end = match self.s[self.pos..].find("?>") {
            Some(e) => self.pos + e,
            None => return self.err("unterminated XML declaration"),
        };
        let body = &self.s[self.pos + 5..end];
        let ok = [
            " version=\"1.0\"",
            " version=\"1.0\" encoding=\"UTF-8\"",
            " version=\"1.0\" encoding=\"utf-8\"",
        ]
        .iter()
        .any(|d| body == *d || body.strip_suffix(' ') == Some(d));
        if !ok {
            return self.err("XML declaration other than version 1.0 / UTF-8");
        }
        self.pos = end + 2;
        Ok(())
    }

    /// Unescapes character data or an attribute value in `raw`, which
    /// starts at byte `base` (for error positions).
    fn unescape(&self, raw: &str, base: usize, attr: bool) -> Result<String, XmlError> {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        let mut off = base;
        while let Some(i) = rest.find('&') {
            out.push_str(&norm(&rest[..i], attr));
            let after = &rest[i + 1..];
            let semi = after.find(';').ok_or(XmlError {
                pos: off + i,
                reason: "unterminated entity reference".into(),
            })?;
            let name = &after[..semi];
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(h) = name.strip_prefix("#x") {
                        u32::from_str_radix(h, 16).ok()
                    } else if let Some(d) = name.strip_prefix('#') {
                        d.parse::<u32>().ok()
                    } else {
                        None
                    };
                    match code.and_then(char::from_u32) {
                        Some(c) if is_xml_char(c) => c,
                        _ => {
                            return Err(XmlError {
                                pos: off + i,
                                reason: format!("entity reference &{name}; is not allowed"),
                            })
                        }
                    }
                }
            };
            out.push(c);
            let used = i + 1 + semi + 1;
            off += used;
            rest = &rest[used..];
        }
        out.push_str(&norm(rest, attr));
        Ok(out)
    }

    fn start_tag(&mut self) -> Result<RawTag, XmlError> {
        self.expect("<")?;
        let qname = self.qname()?;
        let mut attrs: Vec<(String, String)> = Vec::new();
        loop {
            let ws = self.skip_ws();
            match self.peek() {
                Some(b'>') => {
                    self.pos += 1;
                    return Ok(RawTag {
                        qname,
                        attrs,
                        empty: false,
                    });
                }
                Some(b'/') => {
                    self.expect("/>")?;
                    return Ok(RawTag {
                        qname,
                        attrs,
                        empty: true,
                    });
                }
                Some(_) if ws > 0 => {
                    let name = self.qname()?;
                    self.skip_ws();
                    self.expect("=")?;
                    self.skip_ws();
                    let q = match self.peek() {
                        Some(q @ (b'"' | b'\'')) => q,
                        _ => return self.err("attribute value must be quoted"),
                    };
                    self.pos += 1;
                    let start = self.pos;
                    let len = match self.b[start..].iter().position(|&c| c == q) {
                        Some(l) => l,
                        None => return self.err("unterminated attribute value"),
                    };
                    let raw = &self.s[start..start + len];
                    if raw.contains('<') {
                        return self.err("'<' in an attribute value");
                    }
                    let value = self.unescape(raw, start, true)?;
                    self.pos = start + len + 1;
                    if attrs.iter().any(|(n, _)| *n == name) {
                        return self.err(format!("duplicate attribute {name}"));
                    }
                    attrs.push((name, value));
                }
                _ => return self.err("malformed start tag"),
            }
        }
    }

    fn element(
        &mut self,
        parent_scope: &BTreeMap<String, String>,
        depth: usize,
    ) -> Result<Element, XmlError> {
        if depth > MAX_DEPTH {
            return self.err(format!("elements nested deeper than {MAX_DEPTH}"));
        }
        let tag_pos = self.pos;
        let tag = self.start_tag()?;
        let mut scope = parent_scope.clone();
        let mut plain = Vec::new();
        for (n, v) in &tag.attrs {
            if n == "xmlns" {
                if v.is_empty() {
                    return self
                        .err("xmlns=\"\" (undeclaring the default namespace) is not allowed");
                }
                scope.insert(String::new(), v.clone());
            } else if let Some(p) = n.strip_prefix("xmlns:") {
                if v.is_empty() {
                    return self.err(format!("empty namespace declaration for {p}"));
                }
                if p == "xml" || p == "xmlns" {
                    return self.err(format!("declaration of reserved prefix {p}"));
                }
                scope.insert(p.to_string(), v.clone());
            } else {
                plain.push((n, v));
            }
        }
        let (prefix, local) = split_qname(&tag.qname);
        if prefix.as_deref() == Some("xml") || prefix.as_deref() == Some("xmlns") {
            return self.err(format!("reserved prefix in element name {}", tag.qname));
        }
        let ns = match &prefix {
            Some(p) => Some(scope.get(p).cloned().ok_or(XmlError {
                pos: tag_pos,
                reason: format!("unbound prefix {p}"),
            })?),
            None => scope.get("").cloned(),
        };
        let mut attrs: Vec<Attr> = Vec::new();
        for (n, v) in plain {
            let (ap, al) = split_qname(n);
            let ans = match &ap {
                Some(p) if p == "xml" => {
                    return Err(XmlError {
                        pos: tag_pos,
                        reason: format!("xml:{al} attributes are not allowed"),
                    })
                }
                Some(p) => Some(scope.get(p).cloned().ok_or(XmlError {
                    pos: tag_pos,
                    reason: format!("unbound prefix {p}"),
                })?),
                None => None,
            };
            if attrs.iter().any(|a| a.ns == ans && a.local == al) {
                return Err(XmlError {
                    pos: tag_pos,
                    reason: format!("duplicate attribute {n} (same namespace and name)"),
                });
            }
            attrs.push(Attr {
                prefix: ap,
                local: al,
                ns: ans,
                value: v.clone(),
            });
        }
        let mut el = Element {
            prefix,
            local,
            ns,
            attrs,
            in_scope: scope,
            children: Vec::new(),
        };
        if tag.empty {
            return Ok(el);
        }
        loop {
            // Character data up to the next markup.
            let start = self.pos;
            let len = self.b[start..]
                .iter()
                .position(|&c| c == b'<')
                .unwrap_or(self.b.len() - start);
            if len > 0 {
                let raw = &self.s[start..start + len];
                if raw.contains("]]>") {
                    return self.err("']]>' in character data");
                }
                let t = self.unescape(raw, start, false)?;
                self.pos = start + len;
                el.children.push(Node::Text(t));
            }
            if self.pos >= self.b.len() {
                return self.err(format!("element {} is not closed", tag.qname));
            }
            if self.starts_with("</") {
                self.pos += 2;
                let end = self.qname()?;
                if end != tag.qname {
                    return self.err(format!("end tag </{end}> does not match <{}>", tag.qname));
                }
                self.skip_ws();
                self.expect(">")?;
                return Ok(el);
            }
            if self.starts_with("<!") {
                return self.err("comments, CDATA sections and declarations are not allowed");
            }
            if self.starts_with("<?") {
                return self.err("processing instructions are not allowed");
            }
            let child = self.element(&el.in_scope, depth + 1)?;
            el.children.push(Node::Element(child));
        }
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Attribute-value normalization of literal whitespace (XML 1.0 §3.3.3,
/// all attributes being CDATA without a DTD).
fn norm(s: &str, attr: bool) -> String {
    if attr {
        s.replace(['\t', '\n'], " ")
    } else {
        s.to_string()
    }
}

fn split_qname(q: &str) -> (Option<String>, String) {
    match q.split_once(':') {
        Some((p, l)) => (Some(p.to_string()), l.to_string()),
        None => (None, q.to_string()),
    }
}

/// Parses a document in the restricted profile; returns the root element.
pub fn parse(doc: &str) -> Result<Element, XmlError> {
    if doc.len() > MAX_LEN {
        return Err(XmlError {
            pos: 0,
            reason: format!("document is {} bytes, more than {MAX_LEN}", doc.len()),
        });
    }
    if let Some(i) = doc.find('\r') {
        return Err(XmlError {
            pos: i,
            reason: "carriage return in the document".into(),
        });
    }
    if let Some((i, c)) = doc.char_indices().find(|(_, c)| !is_xml_char(*c)) {
        return Err(XmlError {
            pos: i,
            reason: format!("character U+{:04X} is not allowed in XML", c as u32),
        });
    }
    let mut p = Parser {
        s: doc,
        b: doc.as_bytes(),
        pos: 0,
    };
    p.declaration()?;
    p.skip_ws();
    if p.starts_with("<!") {
        return p.err("DOCTYPE, comments and other declarations are not allowed");
    }
    if p.starts_with("<?") {
        return p.err("processing instructions are not allowed");
    }
    if p.peek() != Some(b'<') {
        return p.err("expected the root element");
    }
    let root = p.element(&BTreeMap::new(), 0)?;
    p.skip_ws();
    if p.pos != p.b.len() {
        return p.err("content after the root element");
    }
    Ok(root)
}

/// Canonical XML 1.1 (without comments) of the subtree rooted at `el`, as
/// a document subset whose apex is `el`, leaving out any descendant element
/// for which `exclude` returns true (the enveloped-signature transform).
pub fn canonicalize(el: &Element, exclude: &dyn Fn(&Element) -> bool) -> Vec<u8> {
    let mut out = String::new();
    write_c14n(el, &BTreeMap::new(), exclude, &mut out);
    out.into_bytes()
}

fn write_c14n(
    el: &Element,
    rendered: &BTreeMap<String, String>,
    exclude: &dyn Fn(&Element) -> bool,
    out: &mut String,
) {
    let q = el.qname();
    out.push('<');
    out.push_str(&q);
    // Namespace declarations that differ from what the output parent
    // rendered, sorted by prefix (the default namespace, "", first).
    for (p, uri) in &el.in_scope {
        if rendered.get(p) != Some(uri) {
            if p.is_empty() {
                out.push_str(" xmlns=\"");
            } else {
                out.push_str(" xmlns:");
                out.push_str(p);
                out.push_str("=\"");
            }
            escape_attr(uri, out);
            out.push('"');
        }
    }
    // The parser rejects xmlns="", so a default namespace once rendered is
    // never undeclared below it: no `xmlns=""` output is ever needed.
    let mut attrs: Vec<&Attr> = el.attrs.iter().collect();
    attrs.sort_by(|a, b| {
        (a.ns.as_deref().unwrap_or(""), a.local.as_str())
            .cmp(&(b.ns.as_deref().unwrap_or(""), b.local.as_str()))
    });
    for a in attrs {
        out.push(' ');
        out.push_str(&a.qname());
        out.push_str("=\"");
        escape_attr(&a.value, out);
        out.push('"');
    }
    out.push('>');
    for c in &el.children {
        match c {
            Node::Text(t) => escape_text(t, out),
            Node::Element(e) if exclude(e) => {}
            Node::Element(e) => write_c14n(e, &el.in_scope, exclude, out),
        }
    }
    out.push_str("</");
    out.push_str(&q);
    out.push('>');
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(s: &str) -> String {
        String::from_utf8(canonicalize(&parse(s).unwrap(), &|_| false)).unwrap()
    }

    #[test]
    fn canonical_form_sorts_attributes_and_expands_empty_elements() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r xmlns=\"u:d\" xmlns:b=\"u:b\" xmlns:a=\"u:a\" z='1' b:y=\"2\" a:x=\"3&amp;&lt;&gt;&quot;\">\n  <e/>t&#x41;&gt;<b:f\ta='\t'/></r>\n";
        assert_eq!(
            c14n(doc),
            "<r xmlns=\"u:d\" xmlns:a=\"u:a\" xmlns:b=\"u:b\" z=\"1\" a:x=\"3&amp;&lt;>&quot;\" b:y=\"2\">\n  <e></e>tA&gt;<b:f a=\" \"></b:f></r>"
        );
    }

    #[test]
    fn subset_apex_carries_every_in_scope_namespace_and_children_only_changes() {
        let root = parse("<r xmlns=\"u:d\" xmlns:p=\"u:p\"><p:s xmlns:q=\"u:q\"><p:i/><q:j xmlns:p=\"u:p2\"/></p:s></r>").unwrap();
        let s = root.elements().next().unwrap();
        assert_eq!(
            String::from_utf8(canonicalize(s, &|_| false)).unwrap(),
            "<p:s xmlns=\"u:d\" xmlns:p=\"u:p\" xmlns:q=\"u:q\"><p:i></p:i><q:j xmlns:p=\"u:p2\"></q:j></p:s>"
        );
    }

    #[test]
    fn excluded_elements_leave_surrounding_text() {
        let root = parse("<r>a<x>b</x>c</r>").unwrap();
        let out = canonicalize(&root, &|e| e.local == "x");
        assert_eq!(out, b"<r>ac</r>");
    }

    #[test]
    fn forbidden_constructs_are_rejected() {
        for (doc, why) in [
            ("<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>", "DOCTYPE"),
            ("<r><!-- c --></r>", "comments"),
            ("<r><![CDATA[x]]></r>", "CDATA"),
            ("<r><?pi x?></r>", "processing"),
            ("<?pi x?><r/>", "processing"),
            ("<r>&e;</r>", "entity"),
            ("<r>&#0;</r>", "entity"),
            ("<r>\r\n</r>", "carriage"),
            ("<r xml:lang=\"en\"/>", "xml:"),
            ("<r xmlns=\"\"/>", "xmlns=\"\""),
            ("<p:r/>", "unbound"),
            ("<r a=\"1\" a=\"2\"/>", "duplicate"),
            (
                "<r xmlns:p=\"u\" xmlns:q=\"u\" p:a=\"1\" q:a=\"2\"/>",
                "duplicate",
            ),
            ("<r></s>", "does not match"),
            ("<r/><r/>", "after the root"),
            ("<r>x</r>y", "after the root"),
            ("<r a=\"<\"/>", "'<'"),
            ("<r>]]></r>", "']]>'"),
            ("<r a=b/>", "quoted"),
            ("<r", "start tag"),
            ("<r>", "not closed"),
            ("<?xml version=\"1.1\"?><r/>", "declaration"),
            ("<é/>", "name"),
        ] {
            let e = parse(doc).unwrap_err();
            assert!(e.reason.contains(why), "{doc}: {e}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let doc = "<a>".repeat(MAX_DEPTH + 2) + &"</a>".repeat(MAX_DEPTH + 2);
        assert!(parse(&doc).unwrap_err().reason.contains("nested"));
        let ok = "<a>".repeat(MAX_DEPTH) + &"</a>".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn attribute_whitespace_is_normalized_and_escaped_back() {
        let root = parse("<r a=\"x\ny&#xA;z&#9;\"/>").unwrap();
        assert_eq!(root.attr(None, "a"), Some("x y\nz\t"));
        assert_eq!(
            canonicalize(&root, &|_| false),
            b"<r a=\"x y&#xA;z&#x9;\"></r>"
        );
    }
}
