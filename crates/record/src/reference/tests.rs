use super::*;

#[test]
fn embedded_data_passes_its_check() {
    assert_eq!(check(), Ok(()));
}

#[test]
fn tables_have_the_published_counts() {
    let t = tables();
    let legacy = t
        .legacy
        .values()
        .filter(|p| matches!(p, LegacyProvince::Province { .. }))
        .count();
    let counts = [
        ("legacy provinces", legacy, 63),
        ("abroad prefixes", t.legacy.len() - legacy, 195),
        ("provinces", provinces().len(), 34),
        ("communes", t.communes.len(), 3321),
        ("ethnic groups", t.ethnic_groups.len(), 55),
        ("religions", t.religions.len(), 15),
        ("countries", t.countries.len(), 249),
    ];
    for (name, got, expected) in counts {
        assert_eq!(got, expected, "{name}");
    }
    let kinds = |kind| t.communes.iter().filter(|c| c.kind == kind).count();
    assert_eq!(
        [CommuneKind::Xa, CommuneKind::Phuong, CommuneKind::DacKhu].map(kinds),
        [2621, 687, 13]
    );
}

#[test]
fn every_province_has_its_published_commune_count() {
    // DOMAIN.md's list, typed independently of the generator.
    let published = [
        ("001", "Hà Nội", 126),
        ("004", "Cao Bằng", 56),
        ("008", "Tuyên Quang", 124),
        ("011", "Điện Biên", 45),
        ("012", "Lai Châu", 38),
        ("014", "Sơn La", 75),
        ("015", "Lào Cai", 99),
        ("019", "Thái Nguyên", 92),
        ("020", "Lạng Sơn", 65),
        ("022", "Quảng Ninh", 54),
        ("024", "Bắc Ninh", 99),
        ("025", "Phú Thọ", 148),
        ("031", "Hải Phòng", 114),
        ("033", "Hưng Yên", 104),
        ("037", "Ninh Bình", 129),
        ("038", "Thanh Hóa", 166),
        ("040", "Nghệ An", 130),
        ("042", "Hà Tĩnh", 69),
        ("044", "Quảng Trị", 78),
        ("046", "Huế", 40),
        ("048", "Đà Nẵng", 94),
        ("051", "Quảng Ngãi", 96),
        ("052", "Gia Lai", 135),
        ("056", "Khánh Hòa", 65),
        ("066", "Đắk Lắk", 102),
        ("068", "Lâm Đồng", 124),
        ("075", "Đồng Nai", 95),
        ("079", "Hồ Chí Minh", 168),
        ("080", "Tây Ninh", 96),
        ("082", "Đồng Tháp", 102),
        ("086", "Vĩnh Long", 124),
        ("091", "An Giang", 102),
        ("092", "Cần Thơ", 103),
        ("096", "Cà Mau", 64),
    ];
    let got: Vec<(String, &str, usize)> = provinces()
        .iter()
        .map(|p| {
            (
                p.code.to_string(),
                p.name,
                communes_of(&p.code.to_string()).count(),
            )
        })
        .collect();
    let expected: Vec<(String, &str, usize)> = published
        .iter()
        .map(|&(code, name, n)| (code.to_owned(), name, n))
        .collect();
    assert_eq!(got, expected);
}

/// Looks one code up in one table and renders what was found.
fn check_lookup(query: &str, expected: Option<&str>) {
    let got = match query.split_once(':') {
        Some(("province", code)) => province(code).map(|p| format!("{} {}", p.code, p.full_name())),
        Some(("commune", code)) => commune(code).map(|c| {
            let parent = province(&c.province.to_string()).map_or("?", |p| p.name);
            format!("{} {} ({} {parent})", c.code, c.full_name(), c.province)
        }),
        Some(("legacy", code)) => code
            .parse()
            .ok()
            .and_then(legacy_province)
            .map(|p| match p {
                LegacyProvince::Province { code, name } => format!("{code:03} {name}"),
                LegacyProvince::Abroad { code } => format!("{code} abroad"),
            }),
        Some(("ethnic", code)) => ethnic_group(code).map(|e| format!("{} {}", e.code, e.name)),
        Some(("religion", code)) => religion(code).map(|r| format!("{} {}", r.code, r.name)),
        Some(("country", code)) => country(code).map(|c| {
            let vi = c.name_vi.unwrap_or("-");
            format!("{} {} {:03} {} / {vi}", c.code, c.alpha2, c.numeric, c.name)
        }),
        _ => panic!("bad test query {query}"),
    };
    assert_eq!(got.as_deref(), expected, "{query}");
}

#[test]
fn reused_codes_mean_other_provinces_today_than_as_id_prefixes() {
    check_lookup("province:044", Some("044 Tỉnh Quảng Trị"));
    check_lookup("legacy:44", Some("044 Quảng Bình"));
    check_lookup("province:024", Some("024 Tỉnh Bắc Ninh"));
    check_lookup("legacy:24", Some("024 Bắc Giang"));
    check_lookup("province:052", Some("052 Tỉnh Gia Lai"));
    check_lookup("legacy:52", Some("052 Bình Định"));
    check_lookup("province:091", Some("091 Tỉnh An Giang"));
    check_lookup("legacy:91", Some("091 Kiên Giang"));
    check_lookup("province:079", Some("079 Thành phố Hồ Chí Minh"));
    // Merged away: a legacy prefix, no current province.
    check_lookup("province:045", None);
    check_lookup("legacy:45", Some("045 Quảng Trị"));
}

#[test]
fn lookups() {
    check_lookup("province:44", None);
    check_lookup("province:abc", None);
    check_lookup("commune:00070", Some("00070 Phường Hoàn Kiếm (001 Hà Nội)"));
    check_lookup("commune:70", None);
    check_lookup("commune:99999", None);
    check_lookup("legacy:101", Some("101 abroad"));
    check_lookup("legacy:295", Some("295 abroad"));
    check_lookup("legacy:296", None);
    check_lookup("legacy:3", None);
    check_lookup("legacy:0", None);
    check_lookup("ethnic:01", Some("01 Kinh"));
    check_lookup("ethnic:55", Some("55 Người nước ngoài"));
    check_lookup("ethnic:56", None);
    check_lookup("religion:00", Some("00 Không"));
    check_lookup("religion:14", Some("14 Mặc Môn"));
    check_lookup("religion:15", None);
    check_lookup("country:VNM", Some("VNM VN 704 Viet Nam / Việt Nam"));
    check_lookup("country:vn", Some("VNM VN 704 Viet Nam / Việt Nam"));
    check_lookup("country:704", Some("VNM VN 704 Viet Nam / Việt Nam"));
    check_lookup("country:004", Some("AFG AF 004 Afghanistan / A Phú Hãn"));
    check_lookup("country:XXX", None);
    check_lookup("country:V", None);
    check_lookup("country:ViệtNam", None);
}

#[test]
fn legacy_names_and_classification() {
    assert_eq!(legacy_province_name(1), Some("Hà Nội"));
    assert_eq!(legacy_province_name(79), Some("TP Hồ Chí Minh"));
    assert_eq!(legacy_province_name(101), None);
    assert_eq!(
        LegacyProvince::from_code(101),
        Some(LegacyProvince::Abroad { code: 101 })
    );
    assert_eq!(LegacyProvince::from_code(296), None);
}

#[test]
fn versions_name_every_file() {
    let got: Vec<(&str, &str)> = versions().iter().collect();
    assert_eq!(
        got,
        [
            ("communes", "vietnam-provinces-2025.10.1"),
            ("countries", "pycountry-26.2.16"),
            ("ethnic-groups", "ghidanh-ref-1"),
            ("legacy-provinces", "ghidanh-ref-1"),
            ("provinces", "vietnam-provinces-2025.10.1"),
            ("religions", "ghidanh-ref-1"),
        ]
    );
}

const HEADER: &str = "# version: test-1\n# columns: code\tname\tkind\tcommunes\n";

/// Parses `body` (after a good header, so data lines start at line 3) as provinces.tsv.
fn check_provinces(text: &'static str, expected: &[&str]) {
    let parsed = parse(&admin::PROVINCES, text);
    let got: Vec<String> = parsed.errors.iter().map(ToString::to_string).collect();
    assert_eq!(got, expected, "{text}");
}

#[test]
fn a_broken_table_names_the_file_and_line() {
    check_provinces(
        Box::leak(format!("{HEADER}001\tHà Nội\tthành phố\t126\n").into_boxed_str()),
        &[],
    );
    let cases: [(&'static str, &str); 9] = [
        (
            "001\tHà Nội\tthành phố\n",
            "provinces.tsv line 3: 3 cells, expected 4",
        ),
        (
            "01\tHà Nội\tthành phố\t126\n",
            "provinces.tsv line 3: \"01\" is not a valid province code (3 digits)",
        ),
        (
            "001\t\tthành phố\t126\n",
            "provinces.tsv line 3: column name is empty",
        ),
        (
            "001\t Hà Nội\tthành phố\t126\n",
            "provinces.tsv line 3: column name has leading or trailing spaces",
        ),
        (
            "001\tHa\u{300} Nội\tthành phố\t126\n",
            "provinces.tsv line 3: column name is not in Unicode NFC",
        ),
        (
            "001\tHà Nội\tquận\t126\n",
            "provinces.tsv line 3: column kind: unknown kind \"quận\"",
        ),
        (
            "001\tHà Nội\tthành phố\t-1\n",
            "provinces.tsv line 3: column communes: \"-1\" is not a valid number",
        ),
        (
            "001\tHà Nội\tthành phố\t126\n001\tHà Nội\tthành phố\t126\n",
            "provinces.tsv line 4: code 001 already on line 3",
        ),
        (
            "\u{0}\u{ffff}\t\t\t\t\n",
            "provinces.tsv line 3: 5 cells, expected 4",
        ),
    ];
    for (body, expected) in cases {
        let text: &'static str = Box::leak(format!("{HEADER}{body}").into_boxed_str());
        check_provinces(text, &[expected]);
    }
}

#[test]
fn headers_are_required_and_checked() {
    check_provinces(
        "# columns: code\tname\tkind\tcommunes\n",
        &["provinces.tsv: no `# version:` header line"],
    );
    check_provinces(
        "# version: 1\n",
        &["provinces.tsv: no `# columns:` header line"],
    );
    check_provinces(
        "# version: 1\n# columns: code\tkind\tname\tcommunes\n",
        &["provinces.tsv line 2: columns are \"code\\tkind\\tname\\tcommunes\", expected \"code\\tname\\tkind\\tcommunes\""],
    );
}

#[test]
fn a_bad_line_is_left_out_and_the_rest_is_kept() {
    let text = "# version: 1\n# columns: code\tname\tkind\tcommunes\n001\tHà Nội\tthành phố\t126\nxyz\n004\tCao Bằng\ttỉnh\t56\n";
    let parsed = parse(&admin::PROVINCES, text);
    let codes: Vec<String> = parsed.rows.iter().map(|p| p.code.to_string()).collect();
    assert_eq!(codes, ["001", "004"]);
    assert_eq!(parsed.version, Some("1"));
    assert_eq!(parsed.errors.len(), 1);
}

/// Checks commune/province consistency over small hand-made tables.
fn check_consistency(provinces: &'static str, communes: &'static str, expected: Result<(), &str>) {
    let provinces = parse(&admin::PROVINCES, provinces);
    let communes = parse(&admin::COMMUNES, communes);
    assert!(provinces.errors.is_empty() && communes.errors.is_empty());
    let got = check_communes(&provinces.rows, &communes.rows).map_err(|e| e.to_string());
    assert_eq!(got, expected.map_err(str::to_owned));
}

#[test]
fn communes_must_match_their_provinces() {
    let provinces =
        "# version: 1\n# columns: code\tname\tkind\tcommunes\n001\tHà Nội\tthành phố\t2\n";
    let header = "# version: 1\n# columns: code\tname\tkind\tprovince\n";
    let two: &'static str = Box::leak(
        format!("{header}00004\tBa Đình\tphường\t001\n00008\tNgọc Hà\tphường\t001\n")
            .into_boxed_str(),
    );
    let one: &'static str =
        Box::leak(format!("{header}00004\tBa Đình\tphường\t001\n").into_boxed_str());
    let stray: &'static str = Box::leak(
        format!("{header}00004\tBa Đình\tphường\t001\n00008\tNgọc Hà\tphường\t002\n")
            .into_boxed_str(),
    );
    check_consistency(provinces, two, Ok(()));
    check_consistency(
        provinces,
        one,
        Err("provinces.tsv: province 001 declares 2 communes, communes.tsv lists 1"),
    );
    check_consistency(
        provinces,
        stray,
        Err("communes.tsv: commune 00008 names province 002, which provinces.tsv does not list"),
    );
}

#[test]
fn codes_serialize_as_their_padded_strings() {
    let got = serde_json::to_string(&province("044")).unwrap_or_default();
    assert_eq!(
        got,
        r#"{"code":"044","name":"Quảng Trị","kind":"tinh","communeCount":78}"#
    );
}

/// Parses one table from a literal and renders its errors.
fn check_errors<T, K: Ord + ToString>(
    format: &Format<T, K>,
    text: &'static str,
    expected: &[&str],
) {
    let got: Vec<String> = parse(format, text)
        .errors
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(got, expected, "{text}");
}

#[test]
fn each_table_rejects_its_own_bad_cells() {
    check_errors(
        &legacy::LEGACY_PROVINCES,
        "# version: 1\n# columns: code\tname\n001\tHà Nội\n101\tNowhere\n000\tZero\n",
        &[
            "legacy-provinces.tsv line 4: column code: \"101\" is malformed",
            "legacy-provinces.tsv line 5: column code: \"000\" is malformed",
        ],
    );
    check_errors(
        &admin::COMMUNES,
        "# version: 1\n# columns: code\tname\tkind\tprovince\n00070\tHoàn Kiếm\tquận\t001\n00071\tX\txã\t1\n",
        &[
            "communes.tsv line 3: column kind: unknown kind \"quận\"",
            "communes.tsv line 4: \"1\" is not a valid province code (3 digits)",
        ],
    );
    check_errors(
        &lists::COUNTRIES,
        "# version: 1\n# columns: alpha3\talpha2\tnumeric\tname\tname_vi\nVNM\tvn\t704\tViet Nam\t\nVNM\tVN\t74\tViet Nam\t\nVNM\tVN\t704\tViet Nam\t\nVNM\tVN\t704\tViet Nam\tViệt Nam\n",
        &[
            "countries.tsv line 3: column alpha2: \"vn\" is malformed",
            "countries.tsv line 4: column numeric: \"74\" is not a valid number",
            "countries.tsv line 6: code VNM already on line 5",
        ],
    );
    check_errors(
        &lists::RELIGIONS,
        "# version: 1\n# columns: code\tname\n00\tKhông\n1\tPhật giáo\n",
        &["religions.tsv line 4: \"1\" is not a valid religion code (2 digits)"],
    );
    check_errors(
        &lists::ETHNIC_GROUPS,
        "# version: 1\n# columns: code\tname\n01\tKinh\n02\t\n",
        &["ethnic-groups.tsv line 4: column name is empty"],
    );
}

#[test]
fn versions_serialize_as_a_map_for_the_bundle() {
    let json = serde_json::to_value(versions()).unwrap_or_default();
    assert_eq!(json["communes"], "vietnam-provinces-2025.10.1");
    assert_eq!(json["legacy-provinces"], "ghidanh-ref-1");
    assert_eq!(json.as_object().map(|m| m.len()), Some(6));
}

proptest::proptest! {
    #[test]
    fn lookups_and_parsing_never_panic(input in "\\PC{0,12}", text in "[0-9a-zà-ỹ#:\t\n ]{0,200}") {
        let _ = (province(&input), commune(&input), communes_of(&input).count());
        let _ = (ethnic_group(&input), religion(&input), country(&input));
        let text: &'static str = Box::leak(text.into_boxed_str());
        let _ = parse(&admin::COMMUNES, text);
        let _ = parse(&lists::COUNTRIES, text);
    }
}
