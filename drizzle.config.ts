import { defineConfig } from "drizzle-kit";

// `npm run generate` writes a new numbered migration from src/db/schema.ts. Migrations are
// committed and never edited once they land; production applies them at startup.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
