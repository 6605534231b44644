//! Container-level fuzzing of the strict bundle reader (issue 13): seeded
//! with the fixture bundles, libFuzzer mutates the container bytes (headers,
//! offsets, counts, names, compressed data). Asserts, for every input the
//! reader accepts: re-reading it yields the same members; the writer,
//! given those members, emits a container the reader accepts with the
//! same names and bytes; and when every member was encoded exactly as the
//! writer encodes it, the writer reproduces the input byte for byte (the
//! container has one layout).
#![no_main]

use std::collections::BTreeMap;

use blyss_evidence::bundle::container;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(members) = container::read(data) else {
        return;
    };
    let again = container::read(data).expect("accepted once, accepted again");
    assert_eq!(members, again, "re-reading changed the members");
    let map: BTreeMap<String, &[u8]> = members
        .iter()
        .map(|m| (m.name.clone(), m.data.as_slice()))
        .collect();
    assert_eq!(map.len(), members.len(), "accepted duplicate names");
    let written = container::write(&map).expect("the writer refuses what the reader accepted");
    let back = container::read(&written).expect("the writer's output is refused");
    assert!(
        back.iter()
            .zip(&members)
            .all(|(a, b)| a.name == b.name && a.data == b.data)
            && back.len() == members.len(),
        "the rewritten container holds other members"
    );
    let canonical = members
        .iter()
        .all(|m| container::encode(&m.data) == (m.method, data[m.compressed.clone()].to_vec()));
    if canonical {
        assert_eq!(written, data, "same members, same encoding, other container bytes");
    }
});
