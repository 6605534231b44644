//! The Blyss kernel command line, parsed.
//!
//! Blyss launches its guest with a command line of the form
//!
//! ```text
//! <security flags> fsck.mode=skip ro … dm-mod.create="dmverity,,0,ro,0 … 1 panic_on_corruption"
//!   blyss_shim_docker_img="<docker run args>" blyss_ui_docker_img="…" blyss_docker_img="…" initrd=initrd
//! ```
//!
//! This module only parses (it knows no protocol): it removes the trailing
//! ` initrd=initrd` the boot loader appends, splits the rest like Python's
//! `shlex.split` (POSIX mode, no comments — what the original verifier
//! uses), and extracts the three `docker run` arguments (their `--env`
//! options, the image reference and the trailing arguments) and the
//! dm-verity target. The compliance rules live in `checks::cmdline`.
//!
//! Bounded: the command line is text the audited service publishes, so
//! splitting refuses more than [`MAX_LEN`] bytes or [`MAX_WORDS`] words
//! (Linux itself keeps at most 2,048 bytes on x86 and arm64,
//! `COMMAND_LINE_SIZE`; the real Blyss command lines are about 1 KiB and 13
//! words), and [`Cmdline`] indexes its parameters once, so that every
//! lookup is a map search without allocation instead of a scan of all words
//! (the scans and per-word copies cost 4 s and 1.25 GB on 10 MB of words).
//!
//! The command line carries secrets (`--env HUGGING_FACE_HUB_TOKEN=…`):
//! values returned here are raw evidence and must only reach a report
//! through the audit's redactor.
//!
//! Other families use it to learn which images the guest runs:
//!
//! ```
//! use blyss_evidence::evidence::cmdline::Cmdline;
//! let c = Cmdline::parse(r#"x blyss_docker_img="--env A=1 vllm/vllm-openai@sha256:4f56298007646cbb5bb110f59ea45e2b8abeb2ffb8ce2e856c142eb376bd144f --model m" initrd=initrd"#).unwrap();
//! let app = c.image("blyss_docker_img").unwrap();
//! assert_eq!(app.image.repository, "vllm/vllm-openai");
//! assert_eq!(app.image.digest.as_deref(), Some("sha256:4f56298007646cbb5bb110f59ea45e2b8abeb2ffb8ce2e856c142eb376bd144f"));
//! assert_eq!(app.role, "application");
//! // The two other image parameters are missing here:
//! assert_eq!(c.image_errors.len(), 2);
//! ```

use std::collections::BTreeMap;

use thiserror::Error;

/// What the boot loader appends to the measured command line; removed
/// before the rules apply (original verifier rule).
pub const INITRD_SUFFIX: &str = " initrd=initrd";

/// The three docker-image parameters, in the order the original verifier
/// reconstructs them, with the role each plays.
pub const IMAGE_PARAMS: [(&str, &str); 3] = [
    ("blyss_shim_docker_img", "shim"),
    ("blyss_ui_docker_img", "ui"),
    ("blyss_docker_img", "application"),
];

/// Parameter holding the dm-verity target.
pub const DM_PARAM: &str = "dm-mod.create";

/// Longest text [`shell_split`] (hence [`Cmdline::parse`]) accepts, in
/// bytes: 32 times the kernel's own `COMMAND_LINE_SIZE` on x86.
pub const MAX_LEN: usize = 64 * 1024;
/// Most words [`shell_split`] (hence [`Cmdline::parse`]) accepts.
pub const MAX_WORDS: usize = 4096;

/// Why a command line (or one of its parts) could not be parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CmdlineError {
    #[error("unbalanced quotes: no closing {0} quotation mark")]
    Unterminated(char),
    #[error("a backslash ends the command line (no escaped character)")]
    TrailingBackslash,
    #[error("the command line is {len} bytes, more than the {MAX_LEN} accepted")]
    TooLong { len: usize },
    #[error("the command line has more than the {MAX_WORDS} words accepted")]
    TooManyWords,
    #[error("parameter `{param}`: {reason}")]
    Param { param: String, reason: String },
}

fn param_err(param: &str, reason: impl Into<String>) -> CmdlineError {
    CmdlineError::Param {
        param: param.to_string(),
        reason: reason.into(),
    }
}

/// Splits like Python's `shlex.split(s)` (POSIX mode, `comments=False`):
/// blanks separate words; `'…'` is literal; inside `"…"` a backslash only
/// escapes `\`, `"`, `$`, `` ` `` and newline; outside quotes it escapes any
/// character. Unbalanced quotes are an error, never a guess. More than
/// [`MAX_LEN`] bytes or [`MAX_WORDS`] words is an error too.
pub fn shell_split(s: &str) -> Result<Vec<String>, CmdlineError> {
    if s.len() > MAX_LEN {
        return Err(CmdlineError::TooLong { len: s.len() });
    }
    #[derive(PartialEq)]
    enum St {
        Blank,
        Word,
        Single,
        Double,
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut st = St::Blank;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match st {
            St::Blank | St::Word => match c {
                ' ' | '\t' | '\n' | '\r' => {
                    if st == St::Word {
                        if out.len() >= MAX_WORDS {
                            return Err(CmdlineError::TooManyWords);
                        }
                        out.push(std::mem::take(&mut cur));
                        st = St::Blank;
                    }
                }
                '\'' => st = St::Single,
                '"' => st = St::Double,
                '\\' => {
                    let n = chars.next().ok_or(CmdlineError::TrailingBackslash)?;
                    cur.push(n);
                    st = St::Word;
                }
                _ => {
                    cur.push(c);
                    st = St::Word;
                }
            },
            St::Single => {
                if c == '\'' {
                    st = St::Word;
                } else {
                    cur.push(c);
                }
            }
            St::Double => match c {
                '"' => st = St::Word,
                '\\' => match chars.peek() {
                    Some(&n) if matches!(n, '\\' | '"' | '$' | '`' | '\n') => {
                        cur.push(n);
                        chars.next();
                    }
                    Some(_) => cur.push('\\'),
                    None => return Err(CmdlineError::Unterminated('"')),
                },
                _ => cur.push(c),
            },
        }
    }
    match st {
        St::Single => Err(CmdlineError::Unterminated('\'')),
        St::Double => Err(CmdlineError::Unterminated('"')),
        St::Word => {
            if out.len() >= MAX_WORDS {
                return Err(CmdlineError::TooManyWords);
            }
            out.push(cur);
            Ok(out)
        }
        St::Blank => Ok(out),
    }
}

/// One word of the command line: `key=value` (split at the first `=`) or a
/// bare `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub key: String,
    pub value: Option<String>,
}

/// A container image reference `repository[:tag][@sha256:<64 hex>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Repository, e.g. `vllm/vllm-openai`.
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:<64 lower-case hex>` when pinned.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses a reference. A digest must be `sha256:` followed by exactly 64
    /// lower-case hex digits; anything else after `@` is an error.
    pub fn parse(s: &str) -> Result<ImageRef, String> {
        if s.is_empty() {
            return Err("empty image reference".into());
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("image reference {s:?} contains blanks"));
        }
        let (name, digest) = match s.split_once('@') {
            None => (s, None),
            Some((n, d)) => {
                if d.contains('@') {
                    return Err(format!("image reference {s:?} has more than one '@'"));
                }
                (n, Some(parse_digest(d)?))
            }
        };
        // A tag is a ':' after the last '/' (a ':' before it is a registry port).
        let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (repository, tag) = match name[last_slash..].find(':') {
            Some(i) => (
                name[..last_slash + i].to_string(),
                Some(name[last_slash + i + 1..].to_string()),
            ),
            None => (name.to_string(), None),
        };
        if repository.is_empty() {
            return Err(format!("image reference {s:?} has no repository"));
        }
        if tag.as_deref() == Some("") {
            return Err(format!("image reference {s:?} has an empty tag"));
        }
        Ok(ImageRef {
            repository,
            tag,
            digest,
        })
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Checks a `sha256:<64 lower-case hex>` digest.
pub fn parse_digest(d: &str) -> Result<String, String> {
    let hex = d
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("digest {d:?} is not sha256:<hex>"))?;
    if hex.len() != 64 || !hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(format!(
            "digest {d:?} is not sha256: followed by 64 lower-case hex digits"
        ));
    }
    Ok(d.to_string())
}

/// One `blyss_*docker_img` parameter: the arguments of a `docker run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageArg {
    /// Parameter name (`blyss_docker_img`, …).
    pub param: String,
    /// `application`, `ui` or `shim`.
    pub role: String,
    /// The parameter value, verbatim (may hold secrets).
    pub value: String,
    /// `K=V` of each `--env K=V` option before the image, in order.
    pub env: Vec<String>,
    /// The image reference as written.
    pub reference: String,
    pub image: ImageRef,
    /// Words after the image (the container's arguments), in order.
    pub args: Vec<String>,
}

impl ImageArg {
    /// Parses the value of an image parameter. Only `--env K=V` options may
    /// precede the image (the original verifier's rule); the first other word
    /// is the image reference.
    pub fn parse(param: &str, role: &str, value: &str) -> Result<ImageArg, CmdlineError> {
        let words = shell_split(value).map_err(|e| param_err(param, e.to_string()))?;
        let mut env = Vec::new();
        let mut i = 0;
        loop {
            let Some(w) = words.get(i) else {
                return Err(param_err(param, "no image reference"));
            };
            if w == "--env" {
                let kv = words
                    .get(i + 1)
                    .ok_or_else(|| param_err(param, "`--env` without a value"))?;
                match kv.split_once('=') {
                    Some((k, _)) if !k.is_empty() => env.push(kv.clone()),
                    _ => {
                        let name = kv.split('=').next().unwrap_or_default();
                        return Err(param_err(
                            param,
                            format!("`--env {name}…` is not of the form K=V"),
                        ));
                    }
                }
                i += 2;
                continue;
            }
            if w.starts_with('-') {
                let opt = w.split('=').next().unwrap_or(w);
                return Err(param_err(
                    param,
                    format!("option `{opt}` precedes the image (only --env K=V may)"),
                ));
            }
            let image = ImageRef::parse(w).map_err(|e| param_err(param, e))?;
            return Ok(ImageArg {
                param: param.to_string(),
                role: role.to_string(),
                value: value.to_string(),
                env,
                reference: w.clone(),
                image,
                args: words[i + 1..].to_vec(),
            });
        }
    }

    /// Names of the `--env` variables (values may be secret).
    pub fn env_names(&self) -> Vec<String> {
        self.env
            .iter()
            .map(|kv| kv.split('=').next().unwrap_or_default().to_string())
            .collect()
    }
}

/// The dm-verity target of `dm-mod.create`, split into its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmVerity {
    /// The parameter value, verbatim.
    pub value: String,
    /// Length of the target in 512-byte sectors.
    pub sectors: u64,
    pub data_device: String,
    pub hash_device: String,
    pub data_block_size: u64,
    pub hash_block_size: u64,
    pub data_blocks: u64,
    pub hash_start_block: u64,
    pub algorithm: String,
    /// Root hash (hex).
    pub root_hash: String,
    pub salt: String,
    /// Optional arguments (`panic_on_corruption`, …).
    pub options: Vec<String>,
}

impl DmVerity {
    /// Parses `dmverity,,0,ro,0 <sectors> verity 1 <data> <hash> <dbs> <hbs>
    /// <blocks> <hash start> <alg> <root> <salt> <n> <opts…>` (kernel
    /// `dm-init` syntax with a single verity table line).
    pub fn parse(value: &str) -> Result<DmVerity, String> {
        let dev: Vec<&str> = value.splitn(5, ',').collect();
        if dev.len() != 5 || dev[3] != "ro" {
            return Err("device description is not <name>,<uuid>,<minor>,ro,<table>".into());
        }
        let table = dev[4];
        if table.contains(',') {
            return Err("more than one table line".into());
        }
        let w: Vec<&str> = table.split(' ').collect();
        let num = |i: usize, what: &str| -> Result<u64, String> {
            w.get(i)
                .ok_or_else(|| format!("missing {what}"))?
                .parse::<u64>()
                .map_err(|_| format!("{what} is not a number"))
        };
        let word = |i: usize, what: &str| -> Result<String, String> {
            w.get(i)
                .map(|s| s.to_string())
                .ok_or_else(|| format!("missing {what}"))
        };
        if w.first() != Some(&"0") {
            return Err("table does not start at sector 0".into());
        }
        if w.get(2) != Some(&"verity") {
            return Err("target type is not verity".into());
        }
        let n_opts = num(13, "optional argument count")? as usize;
        let options: Vec<String> = w.iter().skip(14).map(|s| s.to_string()).collect();
        if options.len() != n_opts {
            return Err(format!(
                "{} optional arguments announced, {} present",
                n_opts,
                options.len()
            ));
        }
        Ok(DmVerity {
            value: value.to_string(),
            sectors: num(1, "sector count")?,
            data_device: word(4, "data device")?,
            hash_device: word(5, "hash device")?,
            data_block_size: num(6, "data block size")?,
            hash_block_size: num(7, "hash block size")?,
            data_blocks: num(8, "data block count")?,
            hash_start_block: num(9, "hash start block")?,
            algorithm: word(10, "hash algorithm")?,
            root_hash: word(11, "root hash")?,
            salt: word(12, "salt")?,
            options,
        })
    }
}

/// The `dm-mod.create` value the original verifier expects for a disk of
/// `size` bytes with dm-verity root hash `hash`: sectors = size/512,
/// blocks = size/4096, zero salt, `panic_on_corruption`.
pub fn dm_verity_value(hash: &str, size: u64) -> String {
    format!(
        "dmverity,,0,ro,0 {} verity 1 /dev/sda2 /dev/sdb 4096 4096 {} 1 sha256 {} {} 1 panic_on_corruption",
        size / 512,
        size / 4096,
        hash,
        "0".repeat(64)
    )
}

/// The whole disk-check sequence of the original verifier: the fixed root
/// file-system flags followed by the quoted dm-verity target.
pub fn disk_check_sequence(hash: &str, size: u64) -> String {
    format!(
        "fsck.mode=skip ro console=ttyS0 overlayroot=tmpfs root=/dev/dm-0 rootflags=noload {DM_PARAM}=\"{}\"",
        dm_verity_value(hash, size)
    )
}

/// A parsed Blyss command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmdline {
    /// As published (includes ` initrd=initrd`).
    pub raw: String,
    /// `raw` without its trailing ` initrd=initrd`: what the rules judge.
    pub stripped: String,
    /// Whether the trailing ` initrd=initrd` was present.
    pub initrd_suffix: bool,
    /// Every word, in order.
    pub params: Vec<Param>,
    /// The docker-image parameters that are present and parse, in
    /// [`IMAGE_PARAMS`] order.
    pub images: Vec<ImageArg>,
    /// Image parameters that are missing, repeated or unparsable, with why.
    pub image_errors: Vec<CmdlineError>,
    /// The dm-verity target, when present and parsable.
    pub dm_verity: Option<Result<DmVerity, String>>,
    /// Every key → (position of its first occurrence in `params`, number of
    /// occurrences), built once by [`Cmdline::parse`].
    index: BTreeMap<String, (usize, usize)>,
}

impl Cmdline {
    /// Parses a published command line. Only a shell-syntax error is fatal;
    /// problems with single parameters are recorded in the result.
    pub fn parse(raw: &str) -> Result<Cmdline, CmdlineError> {
        let (stripped, initrd_suffix) = match raw.strip_suffix(INITRD_SUFFIX) {
            Some(s) => (s.to_string(), true),
            None => (raw.to_string(), false),
        };
        let params: Vec<Param> = shell_split(&stripped)?
            .into_iter()
            .map(|w| match w.split_once('=') {
                Some((k, v)) => Param {
                    key: k.to_string(),
                    value: Some(v.to_string()),
                },
                None => Param {
                    key: w,
                    value: None,
                },
            })
            .collect();
        let mut index: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for (i, p) in params.iter().enumerate() {
            index
                .entry(p.key.clone())
                .and_modify(|e| e.1 += 1)
                .or_insert((i, 1));
        }
        let mut c = Cmdline {
            raw: raw.to_string(),
            stripped,
            initrd_suffix,
            params,
            images: Vec::new(),
            image_errors: Vec::new(),
            dm_verity: None,
            index,
        };
        for (param, role) in IMAGE_PARAMS {
            match c.value(param) {
                Ok(Some(v)) => match ImageArg::parse(param, role, v) {
                    Ok(a) => c.images.push(a),
                    Err(e) => c.image_errors.push(e),
                },
                Ok(None) => c
                    .image_errors
                    .push(param_err(param, "missing from the command line")),
                Err(e) => c.image_errors.push(e),
            }
        }
        c.dm_verity = match c.value(DM_PARAM) {
            Ok(Some(v)) => Some(DmVerity::parse(v)),
            Ok(None) => None,
            Err(e) => Some(Err(e.to_string())),
        };
        Ok(c)
    }

    /// How often a key occurs.
    pub fn count(&self, key: &str) -> usize {
        self.index.get(key).map_or(0, |e| e.1)
    }

    /// The value of a `key=value` parameter that occurs at most once.
    /// A repeated key, or a bare `key` without value, is an error (the
    /// original verifier would silently keep the last one).
    pub fn value(&self, key: &str) -> Result<Option<&str>, CmdlineError> {
        let Some(&(first, n)) = self.index.get(key) else {
            return Ok(None);
        };
        if n > 1 {
            return Err(param_err(key, format!("appears {n} times")));
        }
        match &self.params[first].value {
            Some(v) => Ok(Some(v.as_str())),
            None => Err(param_err(key, "has no value")),
        }
    }

    /// The parsed image parameter `param`, if present and well-formed.
    pub fn image(&self, param: &str) -> Option<&ImageArg> {
        self.images.iter().find(|i| i.param == param)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_split_matches_python_shlex_posix() {
        assert_eq!(
            shell_split(r#"a b="c d" 'e f'g h\ i "j\"k" "l\m""#).unwrap(),
            vec!["a", "b=c d", "e fg", "h i", "j\"k", "l\\m"]
        );
        assert_eq!(shell_split("  ").unwrap(), Vec::<String>::new());
        assert_eq!(shell_split(r#"x="""#).unwrap(), vec!["x="]);
        assert_eq!(
            shell_split("a \"b").unwrap_err(),
            CmdlineError::Unterminated('"')
        );
        assert_eq!(
            shell_split("a 'b").unwrap_err(),
            CmdlineError::Unterminated('\'')
        );
        assert_eq!(
            shell_split("a\\").unwrap_err(),
            CmdlineError::TrailingBackslash
        );
        // `#` is an ordinary character (comments=False).
        assert_eq!(shell_split("a #b").unwrap(), vec!["a", "#b"]);
    }

    #[test]
    fn image_reference_forms() {
        let r = ImageRef::parse("vllm/vllm-openai").unwrap();
        assert_eq!(
            (r.repository.as_str(), r.tag, r.digest),
            ("vllm/vllm-openai", None, None)
        );
        let d = format!("sha256:{}", "ab".repeat(32));
        let r = ImageRef::parse(&format!("reg:5000/a/b:v1@{d}")).unwrap();
        assert_eq!(r.repository, "reg:5000/a/b");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.to_string(), format!("reg:5000/a/b:v1@{d}"));
        assert!(ImageRef::parse("a@sha256:abc").is_err());
        assert!(ImageRef::parse(&format!("a@sha256:{}", "AB".repeat(32))).is_err());
        assert!(ImageRef::parse(&format!("a@sha512:{}", "ab".repeat(32))).is_err());
        assert!(ImageRef::parse(&format!("a@{d}@{d}")).is_err());
        assert!(ImageRef::parse("a:").is_err());
    }

    #[test]
    fn image_arg_takes_env_then_image_then_args() {
        let a = ImageArg::parse(
            "blyss_docker_img",
            "application",
            "--env A=1 --env B=x=y img/x --model m ",
        )
        .unwrap();
        assert_eq!(a.env, vec!["A=1", "B=x=y"]);
        assert_eq!(a.env_names(), vec!["A", "B"]);
        assert_eq!(a.reference, "img/x");
        assert_eq!(a.args, vec!["--model", "m"]);
        for (bad, why) in [
            ("--env", "without a value"),
            ("--env A img", "not of the form K=V"),
            ("--env =1 img", "not of the form K=V"),
            ("--privileged img", "option `--privileged` precedes"),
            ("--env A=1", "no image reference"),
            ("", "no image reference"),
        ] {
            let e = ImageArg::parse("p", "r", bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn dm_verity_value_for_blyss_disk() {
        let v = dm_verity_value(&"c5".repeat(32), 535741399040);
        assert!(v.starts_with("dmverity,,0,ro,0 1046369920 verity 1 /dev/sda2 /dev/sdb 4096 4096 130796240 1 sha256 c5c5"));
        let d = DmVerity::parse(&v).unwrap();
        assert_eq!(d.sectors, 1046369920);
        assert_eq!(d.data_blocks, 130796240);
        assert_eq!(d.root_hash, "c5".repeat(32));
        assert_eq!(d.options, vec!["panic_on_corruption"]);
        assert!(DmVerity::parse(&v.replace(",ro,", ",rw,")).is_err());
        assert!(DmVerity::parse(&v.replace(",0 1046", ",8 1046")).is_err());
        assert!(DmVerity::parse(&v.replace(" 1 panic", " 2 panic")).is_err());
    }

    #[test]
    fn repeated_or_bare_parameters_are_errors() {
        let c = Cmdline::parse("a=1 a=2 b initrd=initrd").unwrap();
        assert!(c.initrd_suffix);
        assert_eq!(c.stripped, "a=1 a=2 b");
        assert!(c.value("a").unwrap_err().to_string().contains("2 times"));
        assert!(c.value("b").unwrap_err().to_string().contains("no value"));
        assert_eq!(c.value("z").unwrap(), None);
        assert_eq!(c.image_errors.len(), 3);
        assert_eq!((c.count("a"), c.count("b"), c.count("z")), (2, 1, 0));
    }

    #[test]
    fn command_lines_beyond_the_caps_are_refused() {
        let words = "a ".repeat(MAX_WORDS);
        assert_eq!(shell_split(&words).unwrap().len(), MAX_WORDS);
        assert_eq!(
            shell_split(&format!("{words}b")).unwrap_err(),
            CmdlineError::TooManyWords
        );
        assert_eq!(
            Cmdline::parse(&format!("{words} b initrd=initrd")).unwrap_err(),
            CmdlineError::TooManyWords
        );
        let long = "x".repeat(MAX_LEN + 1);
        assert_eq!(
            Cmdline::parse(&long).unwrap_err(),
            CmdlineError::TooLong { len: MAX_LEN + 1 }
        );
        assert!(shell_split(&"x".repeat(MAX_LEN)).is_ok());
    }

    #[test]
    fn lookups_use_the_index_for_first_and_repeated_keys() {
        let c = Cmdline::parse("k=1 m=2 n k=3 p=4").unwrap();
        assert_eq!(c.value("m").unwrap(), Some("2"));
        assert_eq!(c.value("p").unwrap(), Some("4"));
        assert!(c.value("k").unwrap_err().to_string().contains("2 times"));
        assert!(c.value("n").unwrap_err().to_string().contains("no value"));
        assert_eq!(c.value("absent").unwrap(), None);
    }
}
