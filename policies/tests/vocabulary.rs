//! The enums' names and the small sets.

use raccordo_policies::*;
use std::str::FromStr;

fn round_trip<T>(all: &[T])
where
    T: Copy
        + PartialEq
        + std::fmt::Debug
        + std::fmt::Display
        + FromStr<Err = UnknownName>
        + serde::Serialize,
{
    for x in all {
        let s = x.to_string();
        assert_eq!(T::from_str(&s), Ok(*x));
        // The contract spelling is the serde spelling too.
        let json = serde_json_like(x);
        assert_eq!(json, s);
    }
    let err = T::from_str("no_such_name").err();
    assert_eq!(err, Some(UnknownName("no_such_name".to_string())));
}

/// The serde spelling of a unit variant, through the toml serializer (no extra dependency).
fn serde_json_like<T: serde::Serialize>(x: &T) -> String {
    #[derive(serde::Serialize)]
    struct W<'a, T: serde::Serialize> {
        v: &'a T,
    }
    let text = toml::to_string(&W { v: x }).unwrap_or_default();
    text.trim()
        .trim_start_matches("v = ")
        .trim_matches('"')
        .to_string()
}

#[test]
fn names_round_trip_and_match_serde() {
    round_trip(&AgencyKind::ALL);
    round_trip(&UserRole::ALL);
    round_trip(&DataClass::ALL);
    round_trip(&Relationship::ALL);
    round_trip(&SharePurpose::ALL);
    round_trip(&ReferralClass::ALL);
    round_trip(&NetworkClass::ALL);
    assert_eq!(AgencyKind::EnteAntitratta.as_str(), "ENTE_ANTITRATTA");
    assert_eq!(
        SharePurpose::JudicialCooperation.as_str(),
        "JUDICIAL_COOPERATION"
    );
    assert_eq!(NetworkClass::OwnerOnly.to_string(), "OWNER_ONLY");
    assert_eq!(UnknownName("X".into()).to_string(), "unknown name `X`");
}

#[test]
fn field_class_names() {
    for s in [
        "BASE",
        "NOTES",
        "REFERRAL_CORE",
        "PUBLIC",
        "OWNER_ONLY",
        "OPEN",
    ] {
        let c: FieldClass = match s.parse() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(c.as_str(), s);
        assert_eq!(c.to_string(), s);
    }
    assert!("base".parse::<FieldClass>().is_err());
    assert_eq!(CaseAction::UpdateField("x").as_str(), "UPDATE_FIELD");
    assert_eq!(CaseAction::DecideTransfer.as_str(), "DECIDE_TRANSFER");
}

#[test]
fn law_enforcement() {
    for k in AgencyKind::ALL {
        assert_eq!(
            k.is_law_enforcement(),
            matches!(k, AgencyKind::ForzeOrdine | AgencyKind::Procura)
        );
    }
}

#[test]
fn sets() {
    let mut s = ClassSet::empty();
    assert!(s.is_empty());
    s.insert(DataClass::Notes);
    s.insert(DataClass::Base);
    s.insert(DataClass::Base);
    assert!(
        s.contains(DataClass::Base) && s.contains(DataClass::Notes) && !s.contains(DataClass::Gbv)
    );
    // Declaration order, whatever the insertion order.
    assert_eq!(
        s.iter().collect::<Vec<_>>(),
        [DataClass::Base, DataClass::Notes]
    );
    assert_eq!(ClassSet::all().iter().collect::<Vec<_>>(), DataClass::ALL);
    let t = ClassSet::empty().with(DataClass::Gbv);
    assert_eq!(s.union(t).iter().count(), 3);
    assert_eq!(s.intersection(t), ClassSet::empty());
    assert!(t.is_subset(s.union(t)) && !s.union(t).is_subset(t));
    let from: ClassSet = [DataClass::Legal, DataClass::Health].into_iter().collect();
    assert_eq!(
        from,
        ClassSet::empty()
            .with(DataClass::Health)
            .with(DataClass::Legal)
    );

    let r: RelationshipSet = Relationship::ALL.into_iter().collect();
    assert_eq!(r, RelationshipSet::all());
    assert_eq!(r.iter().collect::<Vec<_>>(), Relationship::ALL);
    assert!(RelationshipSet::default().is_empty());

    let q = ReferralClassSet::empty()
        .with(ReferralClass::ReferralInternal)
        .with(ReferralClass::ReferralCore);
    assert_eq!(
        q.iter().collect::<Vec<_>>(),
        [ReferralClass::ReferralCore, ReferralClass::ReferralInternal]
    );
    assert_eq!(ReferralClassSet::all().iter().count(), 4);
}
