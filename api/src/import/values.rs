//! Reading one cell: enum labels (the contract spelling or an Italian label), dates, yes/no,
//! counts, nationalities and multi-valued cells. Every failure is a sentence for the report.

use chrono::NaiveDate;

use crate::domain::enums::{
    AgeGroup, CaseOutcome, CasePhase, EmersionChannel, Exploitation, Gender, PermitType,
    ReferralOutcome, ReferralStatus,
};

/// Lower case, accents folded, every run of other characters one space: `"Ex art. 18"` and
/// `"EX_ART_18"` both become `"ex art 18"`, so labels match however a spreadsheet spells them.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        };
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else {
            space = true;
        }
    }
    out
}

/// A domain enum a cell can name: by its contract spelling or by one of its Italian labels.
pub trait Label: Copy + 'static {
    /// What the value is, for messages ("a gender").
    const WHAT: &'static str;
    /// Every value.
    fn all() -> &'static [Self];
    /// The contract spelling.
    fn spelling(self) -> &'static str;
    /// Italian labels (any spelling: they are folded before comparing).
    fn aliases() -> &'static [(&'static str, Self)];
}

macro_rules! label {
    ($ty:ident, $what:literal, [$($alias:literal => $value:ident),* $(,)?]) => {
        impl Label for $ty {
            const WHAT: &'static str = $what;
            fn all() -> &'static [Self] {
                $ty::ALL
            }
            fn spelling(self) -> &'static str {
                self.as_str()
            }
            fn aliases() -> &'static [(&'static str, Self)] {
                &[$(($alias, $ty::$value)),*]
            }
        }
    };
}

label!(Gender, "a gender", [
    "femmina" => Female, "f" => Female, "donna" => Female,
    "maschio" => Male, "m" => Male, "uomo" => Male,
    "trans" => Transgender, "persona transgender" => Transgender,
]);

label!(AgeGroup, "an age group", [
    "adulto" => Adult, "adulta" => Adult, "maggiorenne" => Adult,
    "minore" => Minor, "minorenne" => Minor, "msna" => Minor,
]);

label!(CasePhase, "a phase", [
    "chiuso" => Closed, "chiusa" => Closed, "concluso" => Closed,
]);

label!(Exploitation, "an exploitation type", [
    "strada" => SexualStreet, "sessuale su strada" => SexualStreet,
    "sfruttamento sessuale su strada" => SexualStreet, "prostituzione su strada" => SexualStreet,
    "indoor" => SexualIndoor, "sessuale indoor" => SexualIndoor,
    "sfruttamento sessuale indoor" => SexualIndoor, "al chiuso" => SexualIndoor,
    "lavorativo" => Labour, "lavoro" => Labour, "sfruttamento lavorativo" => Labour,
    "accattonaggio" => Begging, "accattonaggio forzato" => Begging,
    "economie illegali" => IllegalEconomies, "economie illecite" => IllegalEconomies,
    "attivita illegali" => IllegalEconomies, "attivita illecite" => IllegalEconomies,
    "matrimonio forzato" => ForcedMarriage, "matrimoni forzati" => ForcedMarriage,
    "servitu domestica" => DomesticServitude, "lavoro domestico" => DomesticServitude,
    "tratta" => Trafficking,
]);

label!(EmersionChannel, "an emersion channel", [
    "segretariato sociale" => AssessmentService,
    "autopresentazione" => SelfReferral, "spontanea" => SelfReferral,
    "auto segnalazione" => SelfReferral, "autosegnalazione" => SelfReferral,
    "conoscente" => Acquaintance, "conoscenti" => Acquaintance, "passaparola" => Acquaintance,
    "oim" => Iom,
    "altro ente antitratta" => OtherAntiTraffickingBody,
    "altro progetto antitratta" => OtherAntiTraffickingBody,
    "unita di strada" => OutreachUnit, "unita di contatto" => OutreachUnit,
    "forze dell ordine" => LawEnforcement, "ff oo" => LawEnforcement,
    "terzo settore" => ThirdSector,
    "legale" => LegalAdvisor, "consulente legale" => LegalAdvisor, "avvocato" => LegalAdvisor,
    "ente pubblico" => PublicBody, "servizi pubblici" => PublicBody,
    "unita di contatto di altro territorio" => OutreachOtherArea,
    "unita di strada di altro territorio" => OutreachOtherArea,
]);

label!(PermitType, "a residence permit", [
    "nessuno" => None, "nessun titolo" => None, "senza titolo" => None, "assente" => None,
    "richiesta protezione internazionale" => InternationalProtectionRequest,
    "richiesta di protezione internazionale" => InternationalProtectionRequest,
    "richiedente asilo" => InternationalProtectionRequest,
    "ricorso" => AppealArt35, "ricorso ex art 35" => AppealArt35, "ex art 35" => AppealArt35,
    "art 35" => AppealArt35,
    "ex art 18" => Art18, "art 18" => Art18, "articolo 18" => Art18,
    "status di rifugiato" => RefugeeStatus, "rifugiato" => RefugeeStatus,
    "protezione speciale" => SpecialProtection,
    "lavoro subordinato" => SubordinateWork,
    "soggiornante di lungo periodo" => LongTermResidence, "lungo periodo" => LongTermResidence,
    "casi speciali" => SpecialCases,
    "sanatoria 2020" => Emersione2020,
    "richiesta reiterata" => ReiteratedProtectionRequest,
    "domanda reiterata" => ReiteratedProtectionRequest,
]);

label!(CaseOutcome, "an outcome", [
    "autonomia" => Autonomy,
    "non adesione" => NonAdherence, "abbandono" => NonAdherence,
    "invio sai" => SentToSai, "invio al sai" => SentToSai,
    "presa in carico servizi territoriali" => TakenOverByLocalServices,
    "invio altro progetto antitratta" => SentToOtherAntiTraffickingProject,
    "rimpatrio volontario assistito" => AssistedVoluntaryReturn, "rva" => AssistedVoluntaryReturn,
]);

label!(ReferralStatus, "a referral status", [
    "ricevuta" => Received, "ricevuto" => Received,
]);

label!(ReferralOutcome, "a referral outcome", []);

/// The value a cell names, by contract spelling or Italian label, case and accents ignored.
pub fn label<T: Label>(cell: &str) -> Result<T, String> {
    let key = fold(cell);
    if let Some(v) = T::all().iter().find(|v| fold(v.spelling()) == key) {
        return Ok(*v);
    }
    if let Some((_, v)) = T::aliases().iter().find(|(a, _)| fold(a) == key) {
        return Ok(*v);
    }
    let names: Vec<&str> = T::all().iter().map(|v| v.spelling()).collect();
    Err(format!(
        "{cell:?} is not {}: use one of {} (or an Italian label listed in the README)",
        T::WHAT,
        names.join(", ")
    ))
}

/// Splits a multi-valued cell on `;` or `|`, dropping empty items.
pub fn items(cell: &str) -> Vec<&str> {
    cell.split([';', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The items of a multi-valued free-text cell (GBV indicators): split on `;` or `|` as
/// [`items`], except where a backslash escapes them (`\|`, `\;`, `\\`), so that an item
/// may itself contain a separator. A backslash before anything else is kept as written.
pub fn text_items(cell: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut item = String::new();
    let mut chars = cell.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&next @ ('|' | ';' | '\\')) => {
                    item.push(next);
                    chars.next();
                }
                _ => item.push(c),
            },
            '|' | ';' => out.push(std::mem::take(&mut item)),
            _ => item.push(c),
        }
    }
    out.push(item);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The cell [`text_items`] reads back as `items`: joined by `|`, each separator or backslash
/// inside an item escaped with a backslash.
pub fn text_cell<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items
        .into_iter()
        .map(|i| {
            i.replace('\\', "\\\\")
                .replace('|', "\\|")
                .replace(';', "\\;")
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// A date written `YYYY-MM-DD` or `dd/mm/yyyy` (also `dd-mm-yyyy`, `dd.mm.yyyy`, one-digit day
/// and month). Two-digit years are refused: `01/02/23` could be 1923 or 2023.
pub fn date(cell: &str) -> Result<NaiveDate, String> {
    let bad = || format!("{cell:?} is not a date: write 2023-06-30 or 30/06/2023");
    if let Ok(d) = NaiveDate::parse_from_str(cell, "%Y-%m-%d") {
        return Ok(d);
    }
    let parts: Vec<&str> = cell.split(['/', '-', '.']).collect();
    let [d, m, y] = parts.as_slice() else {
        return Err(bad());
    };
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !(digits(d, 1, 2) && digits(m, 1, 2) && digits(y, 4, 4)) {
        return Err(bad());
    }
    let (Ok(d), Ok(m), Ok(y)) = (d.parse(), m.parse(), y.parse()) else {
        return Err(bad());
    };
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(bad)
}

/// Yes or no: `true`/`false`, `sì`/`si`/`no`, `yes`, `vero`/`falso`, `1`/`0`, `x` for yes.
pub fn yes_no(cell: &str) -> Result<bool, String> {
    match fold(cell).as_str() {
        "true" | "si" | "yes" | "vero" | "1" | "x" => Ok(true),
        "false" | "no" | "falso" | "0" => Ok(false),
        _ => Err(format!(
            "{cell:?} is not yes or no: write sì / no (or true / false)"
        )),
    }
}

/// A whole number that is not negative.
pub fn count(cell: &str) -> Result<i32, String> {
    cell.parse::<i32>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("{cell:?} is not a whole number such as 0 or 2"))
}

/// Countries whose Italian name the import accepts besides the ISO 3166-1 alpha-2 code: the
/// nationalities most frequent in the network's reports. Anything else is written as the code.
const COUNTRY_NAMES: &[(&str, &str)] = &[
    ("nigeria", "NG"),
    ("marocco", "MA"),
    ("albania", "AL"),
    ("romania", "RO"),
    ("bulgaria", "BG"),
    ("moldavia", "MD"),
    ("ucraina", "UA"),
    ("costa d avorio", "CI"),
    ("ghana", "GH"),
    ("senegal", "SN"),
    ("gambia", "GM"),
    ("mali", "ML"),
    ("guinea", "GN"),
    ("burkina faso", "BF"),
    ("camerun", "CM"),
    ("sierra leone", "SL"),
    ("eritrea", "ER"),
    ("etiopia", "ET"),
    ("somalia", "SO"),
    ("sudan", "SD"),
    ("egitto", "EG"),
    ("tunisia", "TN"),
    ("pakistan", "PK"),
    ("bangladesh", "BD"),
    ("india", "IN"),
    ("cina", "CN"),
    ("brasile", "BR"),
    ("peru", "PE"),
    ("colombia", "CO"),
    ("italia", "IT"),
];

/// A nationality: an ISO 3166-1 alpha-2 code (`NG`) or one of a few Italian country names.
pub fn nationality(cell: &str) -> Result<String, String> {
    let key = fold(cell);
    if let Some((_, code)) = COUNTRY_NAMES.iter().find(|(name, _)| *name == key) {
        return Ok((*code).to_string());
    }
    crate::validate::nationality("nationality", cell).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_items_round_trip() {
        let items = [
            "minaccia | ricatto",
            "debito; 30.000 €",
            "C:\\percorso\\",
            "semplice",
        ];
        let cell = text_cell(items);
        assert_eq!(text_items(&cell), items);
        // Hand-written cells split as before; a lone backslash is text.
        assert_eq!(text_items("a; b |c"), ["a", "b", "c"]);
        assert_eq!(text_items("a\\b"), ["a\\b"]);
    }

    #[test]
    fn folding() {
        assert_eq!(fold("  Ex art. 18 "), "ex art 18");
        assert_eq!(fold("SEXUAL_STREET"), "sexual street");
        assert_eq!(fold("Nazionalità"), "nazionalita");
        assert_eq!(fold("fascia d'età"), "fascia d eta");
    }

    #[test]
    fn enum_labels() {
        assert_eq!(label::<Gender>("FEMALE"), Ok(Gender::Female));
        assert_eq!(label::<Gender>("femmina"), Ok(Gender::Female));
        assert_eq!(label::<Gender>("F"), Ok(Gender::Female));
        assert_eq!(
            label::<Exploitation>("strada"),
            Ok(Exploitation::SexualStreet)
        );
        assert_eq!(
            label::<Exploitation>("sexual_street"),
            Ok(Exploitation::SexualStreet)
        );
        assert_eq!(label::<PermitType>("ex art. 18"), Ok(PermitType::Art18));
        assert_eq!(
            label::<PermitType>("Richiesta protezione internazionale"),
            Ok(PermitType::InternationalProtectionRequest)
        );
        assert_eq!(
            label::<CasePhase>("Prima accoglienza"),
            Ok(CasePhase::PrimaAccoglienza)
        );
        assert_eq!(
            label::<EmersionChannel>("Unità di strada"),
            Ok(EmersionChannel::OutreachUnit)
        );
        let err = label::<Gender>("altro").unwrap_err();
        assert!(
            err.contains("not a gender") && err.contains("FEMALE"),
            "{err}"
        );
    }

    #[test]
    fn aliases_are_unambiguous() {
        fn check<T: Label + PartialEq + std::fmt::Debug>() {
            for (alias, value) in T::aliases() {
                assert_eq!(label::<T>(alias).as_ref(), Ok(value), "{alias}");
                assert!(
                    T::all().iter().all(|v| fold(v.spelling()) != fold(alias)),
                    "{alias} shadows a contract spelling"
                );
            }
        }
        check::<Gender>();
        check::<AgeGroup>();
        check::<CasePhase>();
        check::<Exploitation>();
        check::<EmersionChannel>();
        check::<PermitType>();
        check::<CaseOutcome>();
        check::<ReferralStatus>();
    }

    #[test]
    fn dates() {
        let d = NaiveDate::from_ymd_opt(2023, 6, 30);
        assert_eq!(date("2023-06-30").ok(), d);
        assert_eq!(date("30/06/2023").ok(), d);
        assert_eq!(date("30.06.2023").ok(), d);
        assert_eq!(date("1/2/2023").ok(), NaiveDate::from_ymd_opt(2023, 2, 1));
        assert!(date("30/06/23").is_err());
        assert!(date("31/02/2023").is_err());
        assert!(date("2023/06/30").is_err());
        assert!(date("ieri").is_err());
    }

    #[test]
    fn yes_no_counts_items() {
        assert_eq!(yes_no("Sì"), Ok(true));
        assert_eq!(yes_no("NO"), Ok(false));
        assert!(yes_no("forse").is_err());
        assert_eq!(count("2"), Ok(2));
        assert!(count("-1").is_err());
        assert!(count("due").is_err());
        assert_eq!(
            items("strada; indoor|| lavoro "),
            vec!["strada", "indoor", "lavoro"]
        );
    }

    #[test]
    fn nationalities() {
        assert_eq!(nationality("ng"), Ok("NG".to_string()));
        assert_eq!(nationality("Costa d'Avorio"), Ok("CI".to_string()));
        assert!(nationality("XX").is_err());
    }
}
