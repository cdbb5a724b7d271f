#!/usr/bin/env python3
"""The refund reconciliation as a consultant would write it with pandas.

Reads STACK_DIR/data/{storefront_refunds.csv, erp_customer_refunds.ndjson} and writes
OUT (key,rule) with one line per failing check, using seam's rule names so the
benchmark can score it against the same truth. Only exceptions are written: no
per-verdict record, unlike seam.
"""
import sys

import pandas as pd

LAG = pd.Timedelta(minutes=30)


def main(stack_dir, out):
    sf = pd.read_csv(f"{stack_dir}/data/storefront_refunds.csv", dtype=str, keep_default_na=False)
    sf["amount"] = (sf["Amount"].str.replace(",", "", regex=False).str.replace("$", "", regex=False)
                    .astype(float).mul(100).round().astype("int64"))
    sf["at"] = pd.to_datetime(sf["Created At"], utc=True)

    erp = pd.read_json(f"{stack_dir}/data/erp_customer_refunds.ndjson", lines=True, dtype=False)
    erp["external_ref"] = erp["memo"].str.extract(r"refund (R[0-9]+)", expand=False)
    erp["amount"] = erp["total"].astype(float).mul(100).round().astype("int64")
    erp["posted_at"] = (pd.to_datetime(erp["tranDate"], format="%m/%d/%Y %I:%M %p")
                        .dt.tz_localize("America/New_York", ambiguous="NaT", nonexistent="shift_forward")
                        .dt.tz_convert("UTC"))
    reason = erp["custbody_reason_code"] if "custbody_reason_code" in erp else pd.Series(pd.NA, index=erp.index)
    erp["reason"] = reason.fillna("")
    as_of = max(sf["at"].max(), erp["posted_at"].max())

    copies = erp.groupby("external_ref").size().rename("copies")
    m = sf.merge(erp, left_on="Refund ID", right_on="external_ref", how="outer", indicator=True,
                 suffixes=("_sf", "_erp"))
    failures = []
    left_only = m[m["_merge"] == "left_only"]
    failures.append(pd.DataFrame({"key": left_only.loc[as_of - left_only["at"] >= LAG, "Refund ID"],
                                  "rule": "exists in right"}))
    right_only = m[m["_merge"] == "right_only"]
    failures.append(pd.DataFrame({"key": right_only["external_ref"], "rule": "exists in left"}))
    both = m[m["_merge"] == "both"].join(copies, on="external_ref")
    checks = {
        "amount equal": both["amount_sf"] != both["amount_erp"],
        "lag at -> posted_at": (both["posted_at"] - both["at"]).abs() > LAG,
        "posted once": both["copies"] > 1,
        "reason code kept": both["reason"] == "",
    }
    for rule, mask in checks.items():
        failures.append(pd.DataFrame({"key": both.loc[mask, "Refund ID"], "rule": rule}))
    pd.concat(failures).drop_duplicates().sort_values(["key", "rule"]).to_csv(out, index=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
