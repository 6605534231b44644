//! Hostile bundle containers, built from a real fixture bundle by committed
//! code (issue 13: one per finding). Used by `bundle_container` (each must be
//! refused), `bundle_differential` (others read them differently, we refuse)
//! and `examples/hostile_corpus.rs` (the corpus `scripts/bench-hostile.sh`
//! times). Where an attack needs a valid signature it is re-signed with the
//! committed FIXTURE key, as an attacker who controls a collector would.
//!
//! Only `blyss_evidence` and `flate2` here: the example includes this file.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;

use blyss_evidence::bundle::container::{self, DEFLATED, STORED};
use blyss_evidence::bundle::format::{MemberRecord, Statement, Subject, SubjectDigest};
use blyss_evidence::bundle::{dsse, keys};

pub const FIXTURE_KEY: &str = include_str!("../../../fixtures/keys/fixture-collector.key");
pub const REAL: &[u8] = include_bytes!("../../../fixtures/bundles/blyss-2024-01.zip");

/// One entry as it will be laid out; every field can lie.
#[derive(Clone)]
pub struct E {
    pub name: Vec<u8>,
    pub local_name: Option<Vec<u8>>,
    pub method: u16,
    pub local_method: Option<u16>,
    pub flags: u16,
    pub local_flags: Option<u16>,
    pub crc: u32,
    pub csize: u32,
    pub usize: u32,
    /// Compressed bytes.
    pub data: Vec<u8>,
    pub local_extra: Vec<u8>,
    pub central_extra: Vec<u8>,
    /// Data descriptor written after the data (crc, csize, usize); the local
    /// header then carries zeros for them.
    pub descriptor: Option<(u32, u32, u32)>,
    pub made_by: u16,
    pub external: u32,
    /// Central directory offset to use instead of the real one.
    pub offset: Option<u32>,
    /// Do not write a local header and data (the entry points elsewhere).
    pub no_local: bool,
}

pub fn crc(d: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(d);
    c.sum()
}

pub fn deflate(d: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(d).unwrap();
    e.finish().unwrap()
}

/// An entry encoded as our writer would.
pub fn entry(name: &str, plain: &[u8]) -> E {
    let (method, data) = container::encode(plain);
    E {
        name: name.as_bytes().to_vec(),
        local_name: None,
        method,
        local_method: None,
        flags: 0,
        local_flags: None,
        crc: crc(plain),
        csize: data.len() as u32,
        usize: plain.len() as u32,
        data,
        local_extra: vec![],
        central_extra: vec![],
        descriptor: None,
        made_by: container::VERSION_MADE_BY,
        external: container::EXTERNAL_ATTRS,
        offset: None,
        no_local: false,
    }
}

/// A whole archive: bytes before, entries, EOCD fields, bytes after.
#[derive(Clone, Default)]
pub struct Z {
    pub prefix: Vec<u8>,
    pub entries: Vec<E>,
    pub eocd_count: Option<u16>,
    pub comment: Vec<u8>,
    pub suffix: Vec<u8>,
}

impl Z {
    pub fn of(members: &BTreeMap<String, Vec<u8>>) -> Z {
        Z {
            entries: members.iter().map(|(n, d)| entry(n, d)).collect(),
            ..Default::default()
        }
    }

    /// Local entries and the central directory (offsets counted from the
    /// start of the returned bytes plus `base`).
    pub fn parts(&self, base: usize) -> (Vec<u8>, Vec<u8>) {
        let mut local = Vec::new();
        let mut central = Vec::new();
        let mut last_offset = 0u32;
        for e in &self.entries {
            let off = (base + local.len()) as u32;
            if !e.no_local {
                last_offset = off;
                let (c, cs, us) = if e.descriptor.is_some() {
                    (0, 0, 0)
                } else {
                    (e.crc, e.csize, e.usize)
                };
                let name = e.local_name.as_ref().unwrap_or(&e.name);
                local.extend_from_slice(b"PK\x03\x04");
                local.extend_from_slice(&container::VERSION_NEEDED.to_le_bytes());
                local.extend_from_slice(&e.local_flags.unwrap_or(e.flags).to_le_bytes());
                local.extend_from_slice(&e.local_method.unwrap_or(e.method).to_le_bytes());
                local.extend_from_slice(&container::DOS_TIME.to_le_bytes());
                local.extend_from_slice(&container::DOS_DATE.to_le_bytes());
                local.extend_from_slice(&c.to_le_bytes());
                local.extend_from_slice(&cs.to_le_bytes());
                local.extend_from_slice(&us.to_le_bytes());
                local.extend_from_slice(&(name.len() as u16).to_le_bytes());
                local.extend_from_slice(&(e.local_extra.len() as u16).to_le_bytes());
                local.extend_from_slice(name);
                local.extend_from_slice(&e.local_extra);
                local.extend_from_slice(&e.data);
                if let Some((c, cs, us)) = e.descriptor {
                    local.extend_from_slice(b"PK\x07\x08");
                    for v in [c, cs, us] {
                        local.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&e.made_by.to_le_bytes());
            central.extend_from_slice(&container::VERSION_NEEDED.to_le_bytes());
            central.extend_from_slice(&e.flags.to_le_bytes());
            central.extend_from_slice(&e.method.to_le_bytes());
            central.extend_from_slice(&container::DOS_TIME.to_le_bytes());
            central.extend_from_slice(&container::DOS_DATE.to_le_bytes());
            central.extend_from_slice(&e.crc.to_le_bytes());
            central.extend_from_slice(&e.csize.to_le_bytes());
            central.extend_from_slice(&e.usize.to_le_bytes());
            central.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            central.extend_from_slice(&(e.central_extra.len() as u16).to_le_bytes());
            central.extend_from_slice(&0u16.to_le_bytes());
            central.extend_from_slice(&0u16.to_le_bytes());
            central.extend_from_slice(&0u16.to_le_bytes());
            central.extend_from_slice(&e.external.to_le_bytes());
            let o = e
                .offset
                .unwrap_or(if e.no_local { last_offset } else { off });
            central.extend_from_slice(&o.to_le_bytes());
            central.extend_from_slice(&e.name);
            central.extend_from_slice(&e.central_extra);
        }
        (local, central)
    }

    pub fn build(&self) -> Vec<u8> {
        let (local, central) = self.parts(self.prefix.len());
        let mut out = self.prefix.clone();
        out.extend_from_slice(&local);
        let cd_off = out.len() as u32;
        out.extend_from_slice(&central);
        let n = self.eocd_count.unwrap_or(self.entries.len() as u16);
        out.extend_from_slice(&eocd(n, central.len() as u32, cd_off, &self.comment));
        out.extend_from_slice(&self.suffix);
        out
    }
}

pub fn eocd(n: u16, cd_size: u32, cd_off: u32, comment: &[u8]) -> Vec<u8> {
    let mut v = b"PK\x05\x06".to_vec();
    v.extend_from_slice(&[0, 0, 0, 0]);
    v.extend_from_slice(&n.to_le_bytes());
    v.extend_from_slice(&n.to_le_bytes());
    v.extend_from_slice(&cd_size.to_le_bytes());
    v.extend_from_slice(&cd_off.to_le_bytes());
    v.extend_from_slice(&(comment.len() as u16).to_le_bytes());
    v.extend_from_slice(comment);
    v
}

/// The members of the real fixture bundle.
pub fn real_members() -> BTreeMap<String, Vec<u8>> {
    container::read(REAL)
        .unwrap()
        .into_iter()
        .map(|m| (m.name, m.data))
        .collect()
}

/// Re-signs `members` (evidence only is taken from it) with the fixture key,
/// the statement copied from the real bundle, its subjects and member
/// records made to match, then `edit` applied.
pub fn resign(
    members: &BTreeMap<String, Vec<u8>>,
    edit: impl FnOnce(&mut Statement),
) -> BTreeMap<String, Vec<u8>> {
    let real = real_members();
    let env: dsse::Envelope = serde_json::from_slice(&real["envelope.dsse.json"]).unwrap();
    let mut st: Statement = serde_json::from_slice(&env.payload_bytes().unwrap()).unwrap();
    let template = st.predicate.members[0].clone();
    st.subject.clear();
    st.predicate.members.clear();
    let mut out = BTreeMap::new();
    for (n, d) in members {
        if n == "envelope.dsse.json" || n == "signer.pem" {
            continue;
        }
        st.subject.push(Subject {
            name: n.clone(),
            digest: SubjectDigest {
                sha256: blyss_evidence::util::sha256_hex(d),
            },
        });
        st.predicate.members.push(MemberRecord {
            path: n.clone(),
            ..template.clone()
        });
        out.insert(n.clone(), d.clone());
    }
    edit(&mut st);
    let key = keys::parse_private(FIXTURE_KEY, "fixture-collector.key").unwrap();
    let payload = serde_json::to_vec(&st).unwrap();
    let env = dsse::sign(blyss_evidence::bundle::format::PAYLOAD_TYPE, &payload, &key);
    let mut e = serde_json::to_vec_pretty(&env).unwrap();
    e.push(b'\n');
    out.insert("envelope.dsse.json".into(), e);
    out.insert(
        "signer.pem".into(),
        keys::public_pem(key.verifying_key()).into_bytes(),
    );
    out
}

fn other_attestation() -> Vec<u8> {
    let mut a = real_members()["evidence/attestation.json"].clone();
    // Another document of the same size: what a second reader would see.
    let i = a.iter().position(|&c| c == b'0').unwrap();
    a[i] = b'1';
    a
}

/// Every hostile container of issue 13, by name (each named after the
/// finding it reproduces). `expect` is what our reader must say: the
/// container rule id, or another error's distinctive words.
pub struct Case {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub expect: &'static str,
}

pub fn cases() -> Vec<Case> {
    let real = real_members();
    let base = Z::of(&real);
    let mut v = Vec::new();
    let mut add = |name, bytes, expect| {
        v.push(Case {
            name,
            bytes,
            expect,
        })
    };

    // EOCD count 3, four central entries (a second attestation.json last).
    let mut z = base.clone();
    z.entries
        .push(entry("evidence/attestation.json", &other_attestation()));
    z.eocd_count = Some(3);
    add(
        "eocd_count_3_with_4_central_entries",
        z.build(),
        "consistent-counts",
    );

    // A second zip appended after the valid bundle.
    let mut other = real.clone();
    other.insert("evidence/attestation.json".into(), other_attestation());
    let mut bytes = REAL.to_vec();
    let mut second = Z::of(&other);
    second.prefix = vec![];
    let (l, c) = second.parts(bytes.len());
    let cd_off = (bytes.len() + l.len()) as u32;
    bytes.extend_from_slice(&l);
    bytes.extend_from_slice(&c);
    bytes.extend_from_slice(&eocd(3, c.len() as u32, cd_off, b""));
    add("second_zip_appended", bytes, "single-eocd");

    // Classic EOCD -> the real directory; ZIP64 EOCD -> another one.
    {
        let mut z = base.clone();
        z.entries
            .push(entry("evidence/attestation.json", &other_attestation()));
        let (local, _) = z.parts(0);
        let real_cd = Z {
            entries: z.entries[..3].to_vec(),
            ..Default::default()
        }
        .parts(0)
        .1;
        let mut alt = z.entries.clone();
        alt.swap(1, 3);
        alt.truncate(3);
        // Offsets of the alternative directory: recompute from `z`'s layout.
        let offs: Vec<u32> = {
            let mut o = 0u32;
            z.entries
                .iter()
                .map(|e| {
                    let x = o;
                    o += 30 + e.name.len() as u32 + e.data.len() as u32;
                    x
                })
                .collect()
        };
        alt[0].offset = Some(offs[0]);
        alt[1].offset = Some(offs[3]);
        alt[2].offset = Some(offs[2]);
        let alt_cd = Z {
            entries: alt,
            ..Default::default()
        }
        .parts(0)
        .1;
        let mut b = local.clone();
        let real_off = b.len();
        b.extend_from_slice(&real_cd);
        let alt_off = b.len();
        b.extend_from_slice(&alt_cd);
        let z64 = b.len();
        b.extend_from_slice(b"PK\x06\x06");
        b.extend_from_slice(&44u64.to_le_bytes());
        b.extend_from_slice(&0x032Du16.to_le_bytes());
        b.extend_from_slice(&45u16.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&3u64.to_le_bytes());
        b.extend_from_slice(&3u64.to_le_bytes());
        b.extend_from_slice(&(alt_cd.len() as u64).to_le_bytes());
        b.extend_from_slice(&(alt_off as u64).to_le_bytes());
        b.extend_from_slice(b"PK\x06\x07");
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&(z64 as u64).to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&eocd(3, real_cd.len() as u32, real_off as u32, b""));
        add("classic_and_zip64_eocd_disagree", b, "no-zip64");
    }

    // 65,539 entries: the 16-bit count wraps to 3.
    let mut z = base.clone();
    for i in 0..65_536u32 {
        z.entries.push(entry(&format!("evidence/pad/{i:05}"), b""));
    }
    z.entries.sort_by(|a, b| a.name.cmp(&b.name));
    z.eocd_count = Some((z.entries.len() % 65_536) as u16);
    add(
        "count_wraps_65539_entries",
        z.build(),
        "too many entries: 65539",
    );

    // Local header name / method / flags differing from the central entry.
    let att = 1; // index of evidence/attestation.json
    let mut z = base.clone();
    z.entries[att].local_name = Some(b"evidence/attestatioN.json".to_vec());
    add(
        "local_header_name_differs",
        z.build(),
        "local-matches-central",
    );
    let mut z = base.clone();
    z.entries[att].local_method = Some(STORED);
    add(
        "local_header_method_differs",
        z.build(),
        "local-matches-central",
    );
    let mut z = base.clone();
    z.entries[att].local_flags = Some(0x0800);
    add(
        "local_header_flags_differ",
        z.build(),
        "local-matches-central",
    );

    // Data descriptors, honest and lying.
    let mut z = base.clone();
    for e in &mut z.entries {
        e.flags = 0x0008;
        e.descriptor = Some((e.crc, e.csize, e.usize));
    }
    add("data_descriptor_honest", z.build(), "no-data-descriptors");
    let mut z = base.clone();
    z.entries[att].flags = 0x0008;
    z.entries[att].descriptor = Some((0xdead_beef, 1, 2));
    add("data_descriptor_lying", z.build(), "no-data-descriptors");

    // Bytes prepended with the offsets adjusted; bytes appended; a comment.
    let mut z = base.clone();
    z.prefix = b"#!/bin/sh\necho not a bundle\nexit 0\n".to_vec();
    add(
        "bytes_prepended_offsets_adjusted",
        z.build(),
        "no-leading-bytes",
    );
    let mut z = base.clone();
    z.suffix = vec![0x41; 1000];
    add("bytes_appended", z.build(), "no-trailing-bytes");
    let mut z = base.clone();
    z.comment = vec![b'c'; 65_535];
    add("comment_64k", z.build(), "no-trailing-bytes");

    // ZIP64 extra fields on every entry.
    let mut z = base.clone();
    for e in &mut z.entries {
        let mut x = vec![0x01, 0x00, 16, 0];
        x.extend_from_slice(&(e.usize as u64).to_le_bytes());
        x.extend_from_slice(&(e.csize as u64).to_le_bytes());
        e.local_extra = x.clone();
        e.central_extra = x;
    }
    add("zip64_extra_fields", z.build(), "no-zip64");

    // Case variants and a file beside a same-named "directory", signed.
    let mut m = real.clone();
    m.insert("evidence/Attestation.json".into(), other_attestation());
    add(
        "case_variant_names_signed",
        Z::of(&resign(&m, |_| ())).build(),
        "unique-names",
    );
    let mut m = real.clone();
    m.insert("evidence/attestation.json/x".into(), other_attestation());
    add(
        "file_beside_same_named_directory_signed",
        Z::of(&resign(&m, |_| ())).build(),
        "no-file-directory-clash",
    );

    // Three central entries sharing one DEFLATE stream (amplification).
    let zeros = vec![0u8; 30 << 20];
    let mut z = Z::default();
    let mut e = entry("evidence/a", &zeros);
    e.method = DEFLATED;
    e.data = deflate(&zeros);
    e.csize = e.data.len() as u32;
    z.entries.push(e.clone());
    for n in ["evidence/b", "evidence/c"] {
        let mut e2 = e.clone();
        e2.name = n.as_bytes().to_vec();
        e2.no_local = true;
        z.entries.push(e2);
    }
    add(
        "three_entries_share_one_deflate_bomb",
        z.build(),
        "compression ratio",
    );
    let mut z = base.clone();
    let mut e2 = z.entries[att].clone();
    e2.name = b"evidence/attestation2.json".to_vec();
    e2.no_local = true;
    z.entries.insert(2, e2);
    add("two_entries_share_one_stream", z.build(), "back-to-back");

    // Smaller findings: encrypted (AES), a directory entry, a re-packed bundle.
    let mut z = base.clone();
    z.entries[att].method = 99;
    z.entries[att].local_method = Some(99);
    z.entries[att].flags = 1;
    z.entries[att].central_extra = vec![0x01, 0x99, 7, 0, 2, 0, b'A', b'E', 3, 8, 0];
    add("aes_encrypted_entry", z.build(), "encrypted (AES)");
    let mut z = base.clone();
    let mut d = entry("evidence/", b"");
    d.external = 0o040755 << 16;
    z.entries.insert(1, d);
    add("directory_entry", z.build(), "directory entry");
    let mut z = base.clone();
    for e in &mut z.entries {
        // `zip -r`: "version made by" 3.0 and an extended-timestamp field.
        e.made_by = 0x031E;
        e.local_extra = vec![0x55, 0x54, 5, 0, 3, 0, 0, 0, 0];
        e.central_extra = vec![0x55, 0x54, 5, 0, 3, 0, 0, 0, 0];
    }
    add(
        "repacked_by_zip_tool",
        z.build(),
        "re-packed by another zip tool",
    );
    v
}
