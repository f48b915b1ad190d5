//! Input checks shared by mutations, filters and imports. Each failure names the input path.

use chrono::NaiveDate;

use crate::error::{ApiError, ApiResult};

/// The longest free text the hub accepts in one field.
pub const MAX_TEXT: usize = 10_000;

/// ISO 3166-1 alpha-2 codes (officially assigned).
const ISO_3166_ALPHA2: &str = "
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
";

/// The sigle of Italy's provinces, including the Sardinian ones abolished in 2016 and being
/// restored, so that a filter on a real province never fails because of an administrative reform.
pub const ITALIAN_PROVINCES: &str = "
    AG AL AN AO AP AQ AR AT AV BA BG BI BL BN BO BR BS BT BZ CA CB CE CH CL CN CO CR CS CT CZ EN FC
    FE FG FI FM FR GE GO GR IM IS KR LC LE LI LO LT LU MB MC ME MI MN MO MS MT NA NO NU OR PA PC PD
    PE PG PI PN PO PR PT PU PV PZ RA RC RE RG RI RM RN RO SA SI SO SP SR SS SU SV TA TE TN TO TP TR
    TS TV UD VA VB VC VE VI VR VT VV
    CI OG OT VS
";

/// Whether `sigla` (upper case) is one of [`ITALIAN_PROVINCES`].
pub fn is_italian_province(sigla: &str) -> bool {
    ITALIAN_PROVINCES.split_whitespace().any(|s| s == sigla)
}

/// A province as its two-letter sigla (case-insensitive on input, upper-case stored).
pub fn province(field: &str, value: &str) -> ApiResult<String> {
    let v = value.trim().to_ascii_uppercase();
    if is_italian_province(&v) {
        Ok(v)
    } else {
        Err(ApiError::validation(
            field,
            format!("{value:?} is not an Italian province sigla such as BG or MI"),
        ))
    }
}

/// A nationality as an ISO 3166-1 alpha-2 code (case-insensitive on input, upper-case stored).
pub fn nationality(field: &str, value: &str) -> ApiResult<String> {
    let v = value.trim().to_ascii_uppercase();
    if v.len() == 2 && ISO_3166_ALPHA2.split_whitespace().any(|c| c == v) {
        Ok(v)
    } else {
        Err(ApiError::validation(
            field,
            format!("{value:?} is not an ISO 3166-1 alpha-2 country code such as NG or IT"),
        ))
    }
}

/// Free text up to [`MAX_TEXT`] characters.
pub fn text(field: &str, value: &str) -> ApiResult<String> {
    if value.chars().count() > MAX_TEXT {
        return Err(ApiError::validation(
            field,
            format!("{field} is longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(value.to_string())
}

/// Optional free text.
pub fn opt_text(field: &str, value: &Option<String>) -> ApiResult<Option<String>> {
    value.as_deref().map(|v| text(field, v)).transpose()
}

/// A non-empty short text (names, codes, kinds).
pub fn required(field: &str, value: &str) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::validation(
            field,
            format!("{field} must not be empty"),
        ));
    }
    text(field, v)
}

/// A count that cannot be negative.
pub fn count(field: &str, value: i32) -> ApiResult<i32> {
    if value < 0 {
        return Err(ApiError::validation(
            field,
            format!("{field} must not be negative"),
        ));
    }
    Ok(value)
}

/// A date that cannot be in the future.
pub fn not_future(field: &str, value: NaiveDate, today: NaiveDate) -> ApiResult<NaiveDate> {
    if value > today {
        return Err(ApiError::validation(
            field,
            format!("{field} ({value}) is in the future"),
        ));
    }
    Ok(value)
}

/// `later` must not be before `earlier`.
pub fn not_before(field: &str, later: NaiveDate, earlier: NaiveDate, what: &str) -> ApiResult<()> {
    if later < earlier {
        return Err(ApiError::validation(
            field,
            format!("{field} ({later}) is before {what} ({earlier})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nationalities() {
        assert_eq!(nationality("n", "ng").unwrap(), "NG");
        assert!(nationality("n", "XX").is_err());
        assert!(nationality("n", "NGA").is_err());
        assert_eq!(ISO_3166_ALPHA2.split_whitespace().count(), 249);
    }

    #[test]
    fn texts_and_counts() {
        assert!(text("t", &"a".repeat(MAX_TEXT + 1)).is_err());
        assert!(count("c", -1).is_err());
        assert!(required("r", "  ").is_err());
    }
}
