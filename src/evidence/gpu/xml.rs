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
//!   non-ASCII names, control characters;
//! * bounded: documents larger than [`MAX_LEN`], nesting deeper than
//!   [`MAX_DEPTH`], more than [`MAX_ELEMENTS`] elements, more than
//!   [`MAX_ATTRS_PER_ELEMENT`] attributes on one element or [`MAX_ATTRS`] in
//!   the document, more than [`MAX_NAMESPACES`] namespaces in scope are
//!   refused with a typed error ([`XmlErrorKind`]);
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
//!
//! Cost: the RIM is text the audited service serves, so every step is
//! linear in the document (or `n log n` where attributes are sorted):
//! duplicate attributes are found by sorting the names of one tag, never by
//! comparing each attribute with all earlier ones (that scan took 208 s on
//! 200,000 attributes); the namespace scope is shared between an element and
//! its children unless the element declares a namespace, and is at most
//! [`MAX_NAMESPACES`] entries, so neither parsing nor canonicalization
//! copies or walks a scope per element that grows with the document. The
//! caps sit far above the real RIMs (about 20 KiB, 85 elements, 13
//! attributes on one element, 6 namespaces) and far below what would cost
//! noticeable time or memory.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Largest document accepted (the real RIMs are about 20 KiB).
pub const MAX_LEN: usize = 1024 * 1024;
/// Deepest element nesting accepted (the real RIMs nest 5 deep).
pub const MAX_DEPTH: usize = 32;
/// Most elements in one document (the real RIMs have 85).
pub const MAX_ELEMENTS: usize = 8192;
/// Most attributes (namespace declarations included) on one element (the
/// real RIMs have at most 13; a `Resource` may list 64 hash alternatives).
pub const MAX_ATTRS_PER_ELEMENT: usize = 256;
/// Most attributes (namespace declarations included) in one document.
pub const MAX_ATTRS: usize = 32768;
/// Most namespaces in scope at any element (the real RIMs declare 6).
pub const MAX_NAMESPACES: usize = 32;

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
    /// Shared with the parent when this element declares no namespace.
    pub in_scope: Arc<BTreeMap<String, String>>,
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
#[error("XML at byte {pos}: {kind}")]
pub struct XmlError {
    pub pos: usize,
    pub kind: XmlErrorKind,
}

/// Why a document was refused: a size or count limit, a duplicate
/// attribute, or any other departure from the accepted grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlErrorKind {
    #[error("document is {len} bytes, more than {MAX_LEN}")]
    TooLarge { len: usize },
    #[error("elements nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("more than {MAX_ELEMENTS} elements")]
    TooManyElements,
    #[error("more than {MAX_ATTRS_PER_ELEMENT} attributes on one element")]
    TooManyAttributesOnElement,
    #[error("more than {MAX_ATTRS} attributes in the document")]
    TooManyAttributes,
    #[error("more than {MAX_NAMESPACES} namespaces in scope")]
    TooManyNamespaces,
    #[error("duplicate attribute {0}")]
    DuplicateAttribute(String),
    #[error("{0}")]
    Syntax(String),
}

impl XmlError {
    /// The reason as text (without the position).
    pub fn reason(&self) -> String {
        self.kind.to_string()
    }
}

/// At most 40 characters of a service-controlled token, for messages: an
/// error must not copy a megabyte of the document into the report.
fn clip(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
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
    /// Elements and attributes seen so far (for [`MAX_ELEMENTS`],
    /// [`MAX_ATTRS`]).
    elements: usize,
    attrs: usize,
}

/// A raw start tag before namespace resolution.
struct RawTag {
    qname: String,
    attrs: Vec<(String, String)>,
    empty: bool,
}

impl<'a> Parser<'a> {
    fn err<T>(&self, reason: impl Into<String>) -> Result<T, XmlError> {
        self.fail(XmlErrorKind::Syntax(reason.into()))
    }

    fn fail<T>(&self, kind: XmlErrorKind) -> Result<T, XmlError> {
        Err(XmlError {
            pos: self.pos,
            kind,
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
                kind: XmlErrorKind::Syntax("unterminated entity reference".into()),
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
                                kind: XmlErrorKind::Syntax(format!(
                                    "entity reference &{}; is not allowed",
                                    clip(name)
                                )),
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
                    if attrs.len() >= MAX_ATTRS_PER_ELEMENT {
                        return self.fail(XmlErrorKind::TooManyAttributesOnElement);
                    }
                    if self.attrs >= MAX_ATTRS {
                        return self.fail(XmlErrorKind::TooManyAttributes);
                    }
                    self.attrs += 1;
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
                    attrs.push((name, value));
                }
                _ => return self.err("malformed start tag"),
            }
        }
    }

    fn element(
        &mut self,
        parent_scope: &Arc<BTreeMap<String, String>>,
        depth: usize,
    ) -> Result<Element, XmlError> {
        if depth > MAX_DEPTH {
            return self.fail(XmlErrorKind::TooDeep);
        }
        if self.elements >= MAX_ELEMENTS {
            return self.fail(XmlErrorKind::TooManyElements);
        }
        self.elements += 1;
        let tag_pos = self.pos;
        let tag = self.start_tag()?;
        let at_tag = |kind| XmlError { pos: tag_pos, kind };
        // Duplicate attribute names as written (this also catches a
        // namespace prefix declared twice): sort, then compare neighbours.
        let mut names: Vec<&str> = tag.attrs.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(at_tag(XmlErrorKind::DuplicateAttribute(w[0].to_string())));
        }
        let mut declared: BTreeMap<String, String> = BTreeMap::new();
        let mut plain = Vec::new();
        for (n, v) in &tag.attrs {
            if n == "xmlns" {
                if v.is_empty() {
                    return self
                        .err("xmlns=\"\" (undeclaring the default namespace) is not allowed");
                }
                declared.insert(String::new(), v.clone());
            } else if let Some(p) = n.strip_prefix("xmlns:") {
                if v.is_empty() {
                    return self.err(format!("empty namespace declaration for {p}"));
                }
                if p == "xml" || p == "xmlns" {
                    return self.err(format!("declaration of reserved prefix {p}"));
                }
                declared.insert(p.to_string(), v.clone());
            } else {
                plain.push((n, v));
            }
        }
        // The parent's scope is shared unless this element changes it.
        let scope: Arc<BTreeMap<String, String>> = if declared.is_empty() {
            Arc::clone(parent_scope)
        } else {
            let mut s = BTreeMap::clone(parent_scope);
            s.extend(declared);
            if s.len() > MAX_NAMESPACES {
                return Err(at_tag(XmlErrorKind::TooManyNamespaces));
            }
            Arc::new(s)
        };
        let (prefix, local) = split_qname(&tag.qname);
        if prefix.as_deref() == Some("xml") || prefix.as_deref() == Some("xmlns") {
            return self.err(format!("reserved prefix in element name {}", tag.qname));
        }
        let ns = match &prefix {
            Some(p) => Some(
                scope
                    .get(p)
                    .cloned()
                    .ok_or_else(|| at_tag(XmlErrorKind::Syntax(format!("unbound prefix {p}"))))?,
            ),
            None => scope.get("").cloned(),
        };
        let mut attrs: Vec<Attr> = Vec::new();
        for (n, v) in plain {
            let (ap, al) = split_qname(n);
            let ans =
                match &ap {
                    Some(p) if p == "xml" => {
                        return Err(at_tag(XmlErrorKind::Syntax(format!(
                            "xml:{al} attributes are not allowed"
                        ))))
                    }
                    Some(p) => Some(scope.get(p).cloned().ok_or_else(|| {
                        at_tag(XmlErrorKind::Syntax(format!("unbound prefix {p}")))
                    })?),
                    None => None,
                };
            attrs.push(Attr {
                prefix: ap,
                local: al,
                ns: ans,
                value: v.clone(),
            });
        }
        // Two prefixes bound to one URI make two spellings of one
        // attribute: compare the resolved (namespace, local name) pairs, by
        // sorting (linear-logarithmic, not pairwise).
        let mut resolved: Vec<(Option<&str>, &str, &Attr)> = attrs
            .iter()
            .map(|a| (a.ns.as_deref(), a.local.as_str(), a))
            .collect();
        resolved.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        if let Some(w) = resolved
            .windows(2)
            .find(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1))
        {
            return Err(at_tag(XmlErrorKind::DuplicateAttribute(format!(
                "{} (same namespace and name)",
                w[1].2.qname()
            ))));
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
            kind: XmlErrorKind::TooLarge { len: doc.len() },
        });
    }
    if let Some(i) = doc.find('\r') {
        return Err(XmlError {
            pos: i,
            kind: XmlErrorKind::Syntax("carriage return in the document".into()),
        });
    }
    if let Some((i, c)) = doc.char_indices().find(|(_, c)| !is_xml_char(*c)) {
        return Err(XmlError {
            pos: i,
            kind: XmlErrorKind::Syntax(format!(
                "character U+{:04X} is not allowed in XML",
                c as u32
            )),
        });
    }
    let mut p = Parser {
        s: doc,
        b: doc.as_bytes(),
        pos: 0,
        elements: 0,
        attrs: 0,
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
    let root = p.element(&Arc::new(BTreeMap::new()), 0)?;
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
    // rendered, sorted by prefix (the default namespace, "", first). A scope
    // shared with the parent has nothing to render (no walk per element).
    let same = std::ptr::eq(rendered, &*el.in_scope);
    for (p, uri) in el.in_scope.iter().filter(|_| !same) {
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
            assert!(e.reason().contains(why), "{doc}: {e}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let doc = "<a>".repeat(MAX_DEPTH + 2) + &"</a>".repeat(MAX_DEPTH + 2);
        assert!(parse(&doc).unwrap_err().kind == XmlErrorKind::TooDeep);
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

#[cfg(test)]
mod limit_tests {
    use super::*;

    fn many_attrs(n: usize) -> String {
        let mut d = String::from("<r");
        for i in 0..n {
            d.push_str(&format!(" a{i}=\"1\""));
        }
        d.push_str("/>");
        d
    }

    #[test]
    fn attributes_beyond_the_per_element_cap_are_refused_with_the_cap_error() {
        assert!(parse(&many_attrs(MAX_ATTRS_PER_ELEMENT)).is_ok());
        let e = parse(&many_attrs(MAX_ATTRS_PER_ELEMENT + 1)).unwrap_err();
        assert_eq!(e.kind, XmlErrorKind::TooManyAttributesOnElement);
    }

    #[test]
    fn attributes_beyond_the_document_cap_are_refused_with_the_cap_error() {
        let per = MAX_ATTRS_PER_ELEMENT;
        let el = format!("<e{}/>", &many_attrs(per)[2..many_attrs(per).len() - 2]);
        let n = MAX_ATTRS / per;
        let ok = format!("<r>{}</r>", el.repeat(n));
        assert!(parse(&ok).is_ok());
        let over = format!("<r>{}</r>", el.repeat(n + 1));
        assert_eq!(
            parse(&over).unwrap_err().kind,
            XmlErrorKind::TooManyAttributes
        );
    }

    #[test]
    fn elements_beyond_the_cap_are_refused_with_the_cap_error() {
        let ok = format!("<r>{}</r>", "<e/>".repeat(MAX_ELEMENTS - 1));
        assert!(parse(&ok).is_ok());
        let over = format!("<r>{}</r>", "<e/>".repeat(MAX_ELEMENTS));
        assert_eq!(
            parse(&over).unwrap_err().kind,
            XmlErrorKind::TooManyElements
        );
    }

    #[test]
    fn documents_beyond_the_size_cap_are_refused_before_parsing() {
        let doc = format!("<r>{}</r>", "x".repeat(MAX_LEN));
        assert_eq!(
            parse(&doc).unwrap_err().kind,
            XmlErrorKind::TooLarge { len: MAX_LEN + 7 }
        );
    }

    #[test]
    fn namespaces_in_scope_beyond_the_cap_are_refused() {
        let decls =
            |n: usize| -> String { (0..n).map(|i| format!(" xmlns:p{i}=\"u:{i}\"")).collect() };
        assert!(parse(&format!("<r{}/>", decls(MAX_NAMESPACES))).is_ok());
        // Spread over nesting levels, the scope still counts them all.
        let doc = format!(
            "<r{}><e{}/></r>",
            decls(MAX_NAMESPACES),
            " xmlns:extra=\"u:x\""
        );
        assert_eq!(
            parse(&doc).unwrap_err().kind,
            XmlErrorKind::TooManyNamespaces
        );
    }

    #[test]
    fn duplicate_attributes_are_found_wherever_they_are_in_a_long_tag() {
        // The last attribute repeats the first: found by sorting, not by a
        // pairwise scan, and still named.
        let mut d = many_attrs(MAX_ATTRS_PER_ELEMENT - 1);
        d.truncate(d.len() - 2);
        d.push_str(" a0=\"2\"/>");
        assert_eq!(
            parse(&d).unwrap_err().kind,
            XmlErrorKind::DuplicateAttribute("a0".into())
        );
        // Same namespace through two prefixes.
        let e = parse("<r xmlns:p=\"u\" b=\"0\" xmlns:q=\"u\" q:a=\"2\" p:a=\"1\"/>").unwrap_err();
        assert!(
            matches!(&e.kind, XmlErrorKind::DuplicateAttribute(n) if n.contains(":a (same namespace")),
            "{e}"
        );
        // A prefix declared twice.
        let e = parse("<r xmlns:p=\"u\" xmlns:p=\"v\"/>").unwrap_err();
        assert_eq!(e.kind, XmlErrorKind::DuplicateAttribute("xmlns:p".into()));
        // Different namespaces, same local name: not a duplicate.
        assert!(parse("<r xmlns:p=\"u\" xmlns:q=\"v\" q:a=\"2\" p:a=\"1\" a=\"0\"/>").is_ok());
    }

    #[test]
    fn children_share_the_parent_scope_and_canonicalize_unchanged() {
        let root =
            parse("<r xmlns=\"u:d\" xmlns:p=\"u:p\"><p:a><b/></p:a><c xmlns:q=\"u:q\"/></r>")
                .unwrap();
        let a = root.elements().next().unwrap();
        assert!(Arc::ptr_eq(&root.in_scope, &a.in_scope));
        let c = root.elements().nth(1).unwrap();
        assert!(!Arc::ptr_eq(&root.in_scope, &c.in_scope));
        assert_eq!(
            String::from_utf8(canonicalize(&root, &|_| false)).unwrap(),
            "<r xmlns=\"u:d\" xmlns:p=\"u:p\"><p:a><b></b></p:a><c xmlns:q=\"u:q\"></c></r>"
        );
    }

    #[test]
    fn long_entity_names_are_clipped_in_the_error() {
        let doc = format!("<r>&{};</r>", "z".repeat(100_000));
        let e = parse(&doc).unwrap_err().to_string();
        assert!(e.len() < 200, "{e}");
        assert!(e.contains("is not allowed"), "{e}");
    }
}
