// Lint: ESLint's and typescript-eslint's recommended rules (pure JavaScript tools, so
// `npm ci` installs them on any platform). Formatting is Prettier's (.prettierrc.json).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "migrations/", ".houston/", "coverage/", "dist/", "scratch/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly" } },
    rules: {
      // Unused names are the compiler's job (noUnusedLocals/Parameters).
      "@typescript-eslint/no-unused-vars": "off",
      "no-control-regex": "off",
    },
  },
  {
    files: ["test/**", "bench/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-non-null-assertion": "off" },
  },
);
