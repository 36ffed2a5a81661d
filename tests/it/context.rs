//! Context that names a column reaches every row below it, and a vendor's name excludes only
//! the secret it describes. Keys are made at run time.

use crate::util::{key, run, tempdir, write};

fn lines_of(r: &crate::util::Run) -> Vec<u64> {
    r.findings()
        .iter()
        .filter_map(|f| f["line"].as_u64())
        .collect()
}

#[test]
fn a_csv_header_or_sql_column_list_is_context_for_every_row() {
    let d = tempdir();
    let mut csv = String::from("id,stripe_refresh_token,created\n");
    let mut other = String::from("id,route_token,created\n");
    for i in 0..300 {
        csv.push_str(&format!("{i},{},2024-01-01\n", key("rt_", 32)));
        other.push_str(&format!("{i},{},2024-01-01\n", key("rt_", 32)));
    }
    let mut sql =
        String::from("INSERT INTO accounts (id, name, stripe_refresh_token, created)\nVALUES\n");
    for i in 0..300 {
        sql.push_str(&format!("({i}, 'n{i}', '{}', now()),\n", key("rt_", 32)));
    }
    sql.push_str("(300, 'last', 'x', now());\n");
    write(d.path(), "tokens.csv", &csv);
    write(d.path(), "routes.csv", &other);
    write(d.path(), "dump.sql", &sql);
    let r = run(d.path(), &["scan", "tokens.csv", "--format", "json"]);
    assert_eq!(
        lines_of(&r),
        (2..=301).collect::<Vec<u64>>(),
        "{}",
        r.stderr
    );
    let r = run(d.path(), &["scan", "dump.sql", "--format", "json"]);
    assert_eq!(
        lines_of(&r),
        (3..=302).collect::<Vec<u64>>(),
        "{}",
        r.stderr
    );
    assert!(r.findings().iter().all(|f| f["confidence"] == "high"));
    // A header naming another product's column is no context.
    let r = run(d.path(), &["scan", "routes.csv", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn a_vendor_name_excludes_only_the_secret_it_describes() {
    let d = tempdir();
    let svix = key("whsec_", 32);
    let stripe = key("whsec_", 32);
    write(
        d.path(),
        ".env",
        format!("SVIX_WEBHOOK_SECRET={svix}\nSTRIPE_WEBHOOK_SECRET={stripe}\n"),
    );
    write(
        d.path(),
        "clerk.js",
        format!(
            "// Clerk webhooks\nconst secret = \"{}\";\n",
            key("whsec_", 32)
        ),
    );
    let r = run(d.path(), &["scan", ".", "--format", "json"]);
    let found = r.findings();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (&found[0]["path"], &found[0]["line"], &found[0]["column"]),
        (&".env".into(), &2.into(), &23.into())
    );
    assert_eq!(
        found[0]["fingerprint"],
        stripe_scan::secret::fingerprint_of(stripe.as_bytes())
    );
}
