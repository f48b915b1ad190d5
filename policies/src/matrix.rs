//! The who-sees-what matrix, rendered as Markdown from a loaded [`Policy`].
//!
//! Everything shown is read back through the same indexed tables the evaluator uses, so the
//! matrix shows what the hub enforces, not a second copy of the rules. Output depends only on
//! the document (arrays in enum order, fields in document order): same document, same text.

use std::fmt::Write;

use crate::document::{ActionName, NetworkViewer, ReferralViewer, StatsAccess};
use crate::policy::{bit, Mask};
use crate::{
    AgencyKind, ClassSet, DataClass, FieldClass, NetworkClass, NotesScope, Policy, ReferralClass,
    Relationship, SharePurpose, StatsScope, UserRole,
};

const NO: &str = "–";

pub(crate) fn render(p: &Policy) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail; the `let _` keeps that explicit without unwrap.
    let _ = write_all(p, &mut out);
    out
}

fn write_all(p: &Policy, out: &mut String) -> std::fmt::Result {
    writeln!(out, "# Who sees what: protocol version `{}`", p.version)?;
    writeln!(out)?;
    if let Some(title) = &p.title {
        writeln!(out, "{title}")?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "Generated from the policy document by `raccordo policy matrix`. Do not edit by hand: \
         change `policies/protocol.toml` and generate again."
    )?;
    writeln!(out)?;
    reading(p, out)?;
    changing(p, out)?;
    purposes(p, out)?;
    referrals(p, out)?;
    statistics(p, out)?;
    network(p, out)?;
    places(p, out)?;
    classification(p, out)
}

fn roles(mask: Mask) -> String {
    let names: Vec<&str> = UserRole::ALL
        .into_iter()
        .filter(|r| mask & bit(*r) != 0)
        .map(UserRole::as_str)
        .collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

fn kinds(mask: Mask) -> String {
    let names: Vec<String> = AgencyKind::ALL
        .into_iter()
        .filter(|k| mask & bit(*k) != 0)
        .map(|k| format!("`{k}`"))
        .collect();
    if names.is_empty() {
        NO.to_string()
    } else {
        names.join(", ")
    }
}

fn all_roles_mask() -> Mask {
    UserRole::ALL.into_iter().fold(0, |m, r| m | bit(r))
}

/// The fields of `type_name` that have `class`, as "`a`, `b`".
fn fields_of(p: &Policy, type_name: &str, class: FieldClass) -> String {
    let names: Vec<String> = p
        .field_list
        .iter()
        .filter(|(t, _, c)| t == type_name && *c == class)
        .map(|(_, f, _)| format!("`{f}`"))
        .collect();
    if names.is_empty() {
        NO.to_string()
    } else {
        names.join(", ")
    }
}

fn reading(p: &Policy, out: &mut String) -> std::fmt::Result {
    writeln!(out, "## Reading cases")?;
    writeln!(out)?;
    writeln!(
        out,
        "Roles that see case rows: {}. Every other role ({}) sees no case, whatever its agency. \
         An agency with none of these relationships to a case does not see that the case exists. \
         A viewer with several relationships sees what any of them allows.",
        roles(p.row_roles),
        roles(all_roles_mask() & !p.row_roles)
    )?;
    writeln!(out)?;
    write!(out, "| class | case fields |")?;
    for rel in Relationship::ALL {
        write!(out, " {rel} |")?;
    }
    writeln!(out)?;
    write!(out, "| --- | --- |")?;
    for _ in Relationship::ALL {
        write!(out, " --- |")?;
    }
    writeln!(out)?;
    for class in DataClass::ALL {
        write!(
            out,
            "| `{class}` | {} |",
            fields_of(p, "Case", FieldClass::Case(class))
        )?;
        for rel in Relationship::ALL {
            let cell = if class == DataClass::Notes {
                match p.notes[rel as usize] {
                    NotesScope::All => "all notes",
                    NotesScope::OwnAndSharedWithJoint => {
                        "notes its own agency wrote, and notes the owner marked shared with joint partners"
                    }
                    NotesScope::None => NO,
                }
            } else if p.read[rel as usize].contains(class) {
                "yes"
            } else {
                NO
            };
            write!(out, " {cell} |")?;
        }
        writeln!(out)?;
    }
    writeln!(out)?;
    Ok(())
}

fn changing(p: &Policy, out: &mut String) -> std::fmt::Result {
    writeln!(out, "## Changing cases")?;
    writeln!(out)?;
    writeln!(
        out,
        "Roles that may change cases at all: {}. Every other role changes nothing. \
         New cases may be opened by agencies of kind {}; the opening agency holds the case (OWNER).",
        roles(p.act_roles),
        kinds(p.case_holders)
    )?;
    writeln!(out)?;
    writeln!(out, "| relationship | actions | fields it may change |")?;
    writeln!(out, "| --- | --- | --- |")?;
    for rel in Relationship::ALL {
        let r = rel as usize;
        let actions: Vec<String> = ActionName::ALL
            .into_iter()
            .filter(|a| p.change_actions[r] & bit(*a) != 0)
            .map(|a| {
                let allowed = p.action_roles[a as usize];
                if allowed == p.act_roles {
                    format!("`{}`", a.as_str())
                } else {
                    format!("`{}` ({} only)", a.as_str(), roles(allowed))
                }
            })
            .collect();
        let actions = if actions.is_empty() {
            NO.to_string()
        } else {
            actions.join(", ")
        };
        let mut fields: Vec<String> = Vec::new();
        let classes = p.change_classes[r];
        if classes == ClassSet::all() {
            fields.push("every field of every class".to_string());
        } else {
            for class in classes.iter() {
                fields.push(format!(
                    "{} (class `{class}`)",
                    fields_of(p, "Case", FieldClass::Case(class))
                ));
            }
        }
        if !p.change_fields[r].is_empty() {
            let single: Vec<String> = p.change_fields[r]
                .iter()
                .map(|f| format!("`{f}`"))
                .collect();
            fields.push(single.join(", "));
        }
        let fields = if fields.is_empty() {
            NO.to_string()
        } else {
            fields.join("; ")
        };
        writeln!(out, "| {rel} | {actions} | {fields} |")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "A change to a visible case that the viewer may not make answers `FORBIDDEN`; \
         a change to a case the viewer cannot see answers `NOT_FOUND`."
    )?;
    writeln!(out)?;
    Ok(())
}

fn purposes(p: &Policy, out: &mut String) -> std::fmt::Result {
    writeln!(out, "## Share purposes")?;
    writeln!(out)?;
    writeln!(
        out,
        "Case data leaves the owning agency only for one of these purposes, to an agency of a listed kind, \
         with the person's recorded consent for that purpose and that agency."
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| purpose | given through | recipient kinds | recipient's relationship | emergency share without consent |"
    )?;
    writeln!(out, "| --- | --- | --- | --- | --- |")?;
    for purpose in SharePurpose::ALL {
        let rule = p.purposes[purpose as usize];
        writeln!(
            out,
            "| `{purpose}` | {} | {} | {} | {} |",
            if rule.by_share {
                "a share"
            } else {
                "a transfer request"
            },
            kinds(rule.recipients),
            rule.relationship,
            if p.emergency_purposes & bit(purpose) != 0 {
                "allowed"
            } else {
                NO
            }
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "An emergency share (life in immediate danger, consent cannot be obtained) is made by a {} of the owning \
         agency with a written reason, lasts at most {} hours, is logged and is listed for the owner's review.",
        roles(p.emergency_roles),
        p.emergency_hours
    )?;
    writeln!(out)?;
    Ok(())
}

fn referrals(p: &Policy, out: &mut String) -> std::fmt::Result {
    writeln!(out, "## Referrals")?;
    writeln!(out)?;
    writeln!(
        out,
        "Referrals may be requested by {} and sent to {}. Roles that see referral rows: {}; \
         law enforcement means {}.",
        kinds(p.referral_requesters),
        kinds(p.referral_targets),
        roles(p.row_roles),
        kinds(p.law_enforcement)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| field group | referral fields | target ente | requesting agency | requester is law enforcement | anyone else |"
    )?;
    writeln!(out, "| --- | --- | --- | --- | --- | --- |")?;
    for class in ReferralClass::ALL {
        write!(
            out,
            "| `{class}` | {} |",
            fields_of(p, "Referral", FieldClass::Referral(class))
        )?;
        for col in ReferralViewer::ALL {
            let yes = p.referral_visibility[col as usize].contains(class);
            write!(out, " {} |", if yes { "yes" } else { NO })?;
        }
        writeln!(out)?;
    }
    writeln!(out)?;
    let who = |mask: Mask| -> String {
        let names: Vec<&str> = ReferralViewer::ALL
            .into_iter()
            .filter(|c| mask & bit(*c) != 0)
            .map(|c| match c {
                ReferralViewer::Target => "the target ente",
                ReferralViewer::Requester => "the requesting agency",
                ReferralViewer::LawEnforcementRequester => "a law-enforcement requester",
                ReferralViewer::Other => "anyone else",
            })
            .collect();
        if names.is_empty() {
            "nobody".to_string()
        } else {
            names.join(", ")
        }
    };
    writeln!(
        out,
        "Schedule, record interviews, conclude: {}. Withdraw (while not concluded): {}. \
         Roles that may do either: {}. Correct a concluded referral, with a reason: {} ({}).",
        who(p.referral_work),
        who(p.referral_withdraw),
        roles(p.act_roles),
        who(p.referral_correct),
        roles(p.referral_correct_roles)
    )?;
    writeln!(out)?;
    Ok(())
}

fn statistics(p: &Policy, out: &mut String) -> std::fmt::Result {
    writeln!(out, "## Statistics")?;
    writeln!(out)?;
    writeln!(
        out,
        "Exact answers (`scope: MINE`) count only the rows the agency answers for: the cases it holds and \
         the referrals sent to it, and the cases and referrals of the projects it coordinates; an agency \
         that answers for no rows is refused. Every other answer comes from a release (below). Roles that \
         get statistics: {}; other roles ({}) get none.",
        roles(p.stats_roles),
        roles(all_roles_mask() & !p.stats_roles)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| viewer | `scope: MINE` | `scope: NETWORK` | default scope |"
    )?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    let word = |a: StatsAccess| match a {
        StatsAccess::Exact => "exact",
        StatsAccess::Release => "release",
        StatsAccess::Forbidden => "`FORBIDDEN`",
    };
    for kind in AgencyKind::ALL {
        let row = p.stats_kinds[kind as usize];
        let default = match row.default {
            StatsScope::Mine => "MINE",
            StatsScope::Network => "NETWORK",
        };
        writeln!(
            out,
            "| `{kind}` | {} | {} | {default} |",
            word(row.mine),
            word(row.network)
        )?;
    }
    writeln!(
        out,
        "| anonymous | `FORBIDDEN` | {} | NETWORK |",
        word(p.stats_anonymous)
    )?;
    writeln!(out)?;
    releases(&p.release, out)
}

fn releases(r: &crate::release::ReleaseSpec, out: &mut String) -> std::fmt::Result {
    writeln!(out, "### Network releases")?;
    writeln!(out)?;
    let periods: Vec<&str> = r.granularities.iter().map(|g| g.as_str()).collect();
    writeln!(
        out,
        "A release covers one closed period ({}; closed {} days after its last day) for the whole hub or \
         one province: the cases opened and the referrals received in it. It is computed once, stored, \
         and served unchanged to every partner. Every count gets discrete Laplace noise (OpenDP); a \
         negative count is shown as 0 and a count below {} as suppressed.",
        periods.join(", "),
        r.grace_days,
        r.k
    )?;
    writeln!(out)?;
    writeln!(out, "- ε per table: {}", r.epsilon_per_table)?;
    writeln!(
        out,
        "- ε a person is exposed to in a year: {} (stated by the document; the tables below spend {})",
        r.epsilon_per_year,
        r.exposure_per_year()
    )?;
    writeln!(
        out,
        "- a case counts under at most {} exploitation types",
        r.exploitations_per_case
    )?;
    writeln!(
        out,
        "- nationalities by name: {} (others: `OTHER`)",
        r.nationalities.join(", ")
    )?;
    writeln!(
        out,
        "- provinces by name: {} (others: `OTHER`)",
        r.provinces.join(", ")
    )?;
    writeln!(out)?;
    writeln!(out, "| subject | table | noise scale |")?;
    writeln!(out, "| --- | --- | --- |")?;
    for t in &r.tables {
        writeln!(
            out,
            "| {} | {} | {} |",
            t.subject.as_str(),
            t.dimensions.join(" × "),
            r.noise_scale(t)
        )?;
    }
    writeln!(out)?;
    Ok(())
}

fn network(p: &Policy, out: &mut String) -> std::fmt::Result {
    writeln!(out, "## Network data")?;
    writeln!(out)?;
    writeln!(
        out,
        "| class | fields | anonymous | any authenticated user | the owning agency |"
    )?;
    writeln!(out, "| --- | --- | --- | --- | --- |")?;
    for class in NetworkClass::ALL {
        let fields: Vec<String> = p
            .field_list
            .iter()
            .filter(|(_, _, c)| *c == FieldClass::Network(class))
            .map(|(t, f, _)| format!("`{t}.{f}`"))
            .collect();
        write!(out, "| `{class}` | {} |", fields.join(", "))?;
        for v in NetworkViewer::ALL {
            let yes = p.network[class as usize] & bit(v) != 0;
            write!(out, " {} |", if yes { "yes" } else { NO })?;
        }
        writeln!(out)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Who keeps the registry (`updateAgency`): {} change every agency's entry; {} of an agency \
         change its own public fields (name, place, public contact, site, office location), not its \
         kind nor its operational contact.",
        roles(p.admin_roles),
        roles(p.describe_roles)
    )?;
    writeln!(out)?;
    Ok(())
}

fn places(p: &Policy, out: &mut String) -> std::fmt::Result {
    use crate::places::Urgency;
    let r = &p.places;
    writeln!(out, "## Shelter places and placement requests")?;
    writeln!(out)?;
    writeln!(out, "| what | who |")?;
    writeln!(out, "| --- | --- |")?;
    writeln!(
        out,
        "| record capacity, who a shelter takes, places unavailable; offer places | {} ({}), their own shelters only |",
        kinds(r.offerers),
        roles(r.act_roles)
    )?;
    writeln!(
        out,
        "| vacancies per province × kind × who it takes (never a shelter's name, address or id; a cell of fewer than {} shelters is suppressed) | {} ({}) |",
        r.min_shelters,
        kinds(r.vacancy_readers),
        roles(r.vacancy_roles)
    )?;
    writeln!(
        out,
        "| ask for places (no names), see every offer (the ente and its contact, never a shelter), accept one, withdraw | {} ({}), their own requests |",
        kinds(r.requesters),
        roles(r.act_roles)
    )?;
    writeln!(
        out,
        "| see an open request, offer | {} ({}) with a matching vacancy; afterwards only their own offers |",
        kinds(r.offerers),
        roles(r.act_roles)
    )?;
    writeln!(
        out,
        "| told of open requests without an offer past the window | the requester, and {} ({}) |",
        kinds(r.overdue_watchers),
        roles(r.act_roles)
    )?;
    writeln!(out)?;
    let windows: Vec<String> = Urgency::ALL
        .into_iter()
        .map(|u| format!("`{u}` {} h", r.window_hours(u)))
        .collect();
    writeln!(
        out,
        "Windows before a request without an offer is flagged: {}.",
        windows.join(", ")
    )?;
    writeln!(out)?;
    Ok(())
}

fn classification(p: &Policy, out: &mut String) -> std::fmt::Result {
    writeln!(out, "## Classification of every exposed type")?;
    writeln!(out)?;
    writeln!(
        out,
        "`OPEN` fields carry nothing protected by themselves: what they lead to is decided by the rules above."
    )?;
    writeln!(out)?;
    writeln!(out, "| type | fields by class |")?;
    writeln!(out, "| --- | --- |")?;
    let mut types: Vec<&str> = Vec::new();
    for (t, _, _) in &p.field_list {
        if !types.contains(&t.as_str()) {
            types.push(t);
        }
    }
    for t in types {
        let mut groups: Vec<(FieldClass, Vec<&str>)> = Vec::new();
        for (_, f, c) in p.field_list.iter().filter(|(tt, _, _)| tt == t) {
            match groups.iter_mut().find(|(gc, _)| gc == c) {
                Some((_, fs)) => fs.push(f),
                None => groups.push((*c, vec![f])),
            }
        }
        let text: Vec<String> = groups
            .iter()
            .map(|(c, fs)| format!("{c}: {}", fs.join(", ")))
            .collect();
        writeln!(out, "| `{t}` | {} |", text.join("; "))?;
    }
    Ok(())
}
