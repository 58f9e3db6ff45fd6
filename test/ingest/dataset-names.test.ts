import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatDatasetRef,
  isDatabaseNamespace,
  lineageName,
  parseDatasetRef,
} from "../../src/ingest/dataset-names.ts";

describe("dataset lineage names", () => {
  it("names a dbt table by schema.table, so it meets the native name of the same table", () => {
    const dbt = lineageName({ namespace: "postgres://db.internal:5432", name: "shop.analytics.fct_orders" });
    const native = lineageName(parseDatasetRef("analytics.fct_orders"));
    assert.equal(dbt, "analytics.fct_orders");
    assert.equal(native, dbt);
  });

  it("ignores case in database tables and plain names (Snowflake sends upper case)", () => {
    assert.equal(
      lineageName({ namespace: "snowflake://acme-prod", name: "ANALYTICS.PUBLIC.FCT_ORDERS" }),
      "public.fct_orders",
    );
    assert.equal(lineageName(parseDatasetRef("Public.Fct_Orders")), "public.fct_orders");
  });

  it("keeps a two-part database name and BigQuery's bare namespace", () => {
    assert.equal(lineageName({ namespace: "mysql://db:3306", name: "shop.orders" }), "shop.orders");
    assert.equal(lineageName({ namespace: "bigquery", name: "proj.analytics.orders" }), "analytics.orders");
    assert.ok(isDatabaseNamespace("BigQuery"));
    // Other database schemes only as connections: a namespace called "postgres" is just a name.
    assert.ok(!isDatabaseNamespace("postgres"));
    assert.ok(!isDatabaseNamespace("s3://bucket"));
    assert.equal(lineageName({ namespace: "postgres", name: "a.b.c" }), "postgres/a.b.c");
  });

  it("keeps the namespace of files, buckets, topics and named namespaces whole", () => {
    assert.equal(
      lineageName({ namespace: "s3://landing", name: "acme/settlements.csv" }),
      "s3://landing/acme/settlements.csv",
    );
    assert.equal(lineageName({ namespace: "file", name: "/tmp/warehouse/test" }), "file//tmp/warehouse/test");
    assert.equal(
      lineageName({ namespace: "kafka://broker:9092", name: "Orders" }),
      "kafka://broker:9092/Orders",
    );
    assert.equal(
      lineageName({ namespace: "warehouse", name: "analytics.fct_orders" }),
      "warehouse/analytics.fct_orders",
    );
    // Marquez's naming fixture: one table name in two buckets stays two datasets.
    assert.notEqual(
      lineageName({ namespace: "s3://blob-source", name: "instance.schema.table" }),
      lineageName({ namespace: "s3://blob-sink", name: "instance.schema.table" }),
    );
  });

  it("reads native references: a URI namespace keeps its authority, others end at the first slash", () => {
    assert.deepEqual(parseDatasetRef("postgres://db:5432/shop.analytics.fct_orders"), {
      namespace: "postgres://db:5432",
      name: "shop.analytics.fct_orders",
    });
    assert.deepEqual(parseDatasetRef("s3://landing/acme/x.csv"), {
      namespace: "s3://landing",
      name: "acme/x.csv",
    });
    assert.deepEqual(parseDatasetRef("warehouse/analytics.fct_orders"), {
      namespace: "warehouse",
      name: "analytics.fct_orders",
    });
    assert.deepEqual(parseDatasetRef("file//tmp/out"), { namespace: "file", name: "/tmp/out" });
    for (const plain of ["analytics.fct_orders", "/tmp/out", "trailing/", "s3://bucket", "s3://bucket/"])
      assert.deepEqual(parseDatasetRef(plain), { namespace: "default", name: plain }, plain);
  });

  it("writes references that read back to the same lineage name", () => {
    for (const ref of [
      { namespace: "default", name: "analytics.fct_orders" },
      { namespace: "default", name: "a/b" },
      { namespace: "default", name: "s3://x/y" },
      { namespace: "s3://landing", name: "acme/x.csv" },
      { namespace: "postgres://db:5432", name: "shop.analytics.fct_orders" },
      { namespace: "file", name: "/tmp/out" },
    ]) {
      assert.equal(
        lineageName(parseDatasetRef(formatDatasetRef(ref))),
        lineageName(ref),
        JSON.stringify(ref),
      );
    }
  });
});
