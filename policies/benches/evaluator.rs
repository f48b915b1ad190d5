//! How long one access decision takes. The api asks at every field of every row, so these
//! must stay far below a microsecond.
//!
//! Run: `cargo bench -p raccordo-policies --bench evaluator -- --warm-up-time 1 --measurement-time 3`

// `criterion_group!` defines an undocumented public function; a bench exports nothing.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use raccordo_policies::*;

fn bench(c: &mut Criterion) {
    let policy = match Policy::default_protocol() {
        Ok(p) => p,
        Err(e) => panic!("default protocol: {e}"),
    };
    let viewer = Viewer {
        role: UserRole::Operator,
        agency_kind: Some(AgencyKind::CentroAntiviolenza),
    };
    let rels: RelationshipSet = [Relationship::Joint, Relationship::Service]
        .into_iter()
        .collect();

    c.bench_function("readable_classes (2 relationships)", |b| {
        b.iter(|| policy.readable_classes(black_box(&viewer), black_box(rels)))
    });

    c.bench_function("readable_classes (all relationships)", |b| {
        b.iter(|| policy.readable_classes(black_box(&viewer), black_box(RelationshipSet::all())))
    });

    // One field decision as a resolver makes it: the field's class, then membership in the
    // viewer's readable classes (computed once per row).
    let readable = policy.readable_classes(&viewer, rels);
    c.bench_function("class_of + contains (Case.legalName)", |b| {
        b.iter(
            || match policy.class_of(black_box("Case"), black_box("legalName")) {
                Some(FieldClass::Case(class)) => readable.contains(class),
                _ => false,
            },
        )
    });

    // A whole row: every Case field.
    let fields: Vec<String> = policy
        .classified_fields()
        .filter(|(t, _, _)| *t == "Case")
        .map(|(_, f, _)| f.to_string())
        .collect();
    c.bench_function(
        &format!(
            "class_of + contains, a whole Case row ({} fields)",
            fields.len()
        ),
        |b| {
            b.iter(|| {
                let mut visible = 0u32;
                for f in &fields {
                    if let Some(FieldClass::Case(class)) = policy.class_of("Case", black_box(f)) {
                        visible += u32::from(readable.contains(class));
                    }
                }
                visible
            })
        },
    );

    c.bench_function("may (UpdateField gbvRiskLevel)", |b| {
        b.iter(|| {
            policy.may(
                black_box(&viewer),
                black_box(rels),
                black_box(CaseAction::UpdateField("gbvRiskLevel")),
            )
        })
    });

    c.bench_function("may (AddNote)", |b| {
        b.iter(|| {
            policy.may(
                black_box(&viewer),
                black_box(rels),
                black_box(CaseAction::AddNote),
            )
        })
    });

    let relation = ReferralRelation {
        is_target: false,
        is_requester: true,
    };
    c.bench_function("referral_classes", |b| {
        b.iter(|| policy.referral_classes(black_box(&viewer), black_box(relation)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
