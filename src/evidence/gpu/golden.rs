//! Golden-value comparison, with NVIDIA's verifier's rules:
//! * the golden set is the union of the **active** entries of the driver
//!   and VBIOS RIMs; an index active in both is an error;
//! * RIM index `i` is compared with SPDM measurement block `i + 1` (list
//!   position `i`);
//! * the sizes must match and the value must equal one of the listed
//!   alternatives.

use super::rim::{Rim, RimKind};

/// One compared index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compared {
    pub index: u32,
    pub rim: RimKind,
    pub name: String,
    /// Accepted values, hex.
    pub expected: Vec<String>,
    /// The SPDM block value, hex (`None`: no such block).
    pub actual: Option<String>,
    pub matches: bool,
    /// Why it does not match (size, missing block), if not.
    pub reason: Option<String>,
}

/// Outcome of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub compared: Vec<Compared>,
    /// SPDM blocks that no RIM marks active (not compared, as NVIDIA does).
    pub uncompared_blocks: usize,
}

impl Comparison {
    pub fn matched(&self) -> usize {
        self.compared.iter().filter(|c| c.matches).count()
    }
    pub fn mismatches(&self) -> impl Iterator<Item = &Compared> {
        self.compared.iter().filter(|c| !c.matches)
    }
}

/// Compares SPDM blocks with the active golden values of both RIMs.
pub fn compare(blocks: &[Vec<u8>], driver: &Rim, vbios: &Rim) -> Result<Comparison, String> {
    compare_all(blocks, &[driver, vbios])
}

/// Compares SPDM blocks with the active golden values of every RIM given
/// (a GPU's driver and VBIOS RIMs; an NVSwitch's one switch-BIOS RIM).
pub fn compare_all(blocks: &[Vec<u8>], rims: &[&Rim]) -> Result<Comparison, String> {
    let mut golden: Vec<(RimKind, &super::rim::RimEntry)> = Vec::new();
    for rim in rims.iter().copied() {
        for e in rim.active() {
            if let Some((k, _)) = golden.iter().find(|(_, g)| g.index == e.index) {
                return Err(format!(
                    "index {} is active in both the {} RIM and the {} RIM",
                    e.index,
                    k.as_str(),
                    rim.kind.as_str()
                ));
            }
            golden.push((rim.kind, e));
        }
    }
    golden.sort_by_key(|(_, e)| e.index);
    let mut compared = Vec::with_capacity(golden.len());
    for (kind, e) in &golden {
        let expected: Vec<String> = e.alternatives.iter().map(hex::encode).collect();
        let block = blocks.get(e.index as usize);
        let (matches, reason) = match block {
            None => (
                false,
                Some(format!(
                    "the SPDM response has no block {} ({} blocks)",
                    e.index as usize + 1,
                    blocks.len()
                )),
            ),
            Some(b) if b.len() != e.size => (
                false,
                Some(format!(
                    "block is {} bytes, the RIM says {}",
                    b.len(),
                    e.size
                )),
            ),
            Some(b) if e.alternatives.iter().any(|a| a == b) => (true, None),
            Some(_) => (false, Some("value matches no listed alternative".into())),
        };
        compared.push(Compared {
            index: e.index,
            rim: *kind,
            name: e.name.clone(),
            expected,
            actual: block.map(hex::encode),
            matches,
            reason,
        });
    }
    let active: Vec<u32> = golden.iter().map(|(_, e)| e.index).collect();
    let uncompared_blocks = (0..blocks.len())
        .filter(|i| !active.contains(&(*i as u32)))
        .count();
    Ok(Comparison {
        compared,
        uncompared_blocks,
    })
}
