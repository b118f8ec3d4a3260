// drizzle-kit reads this to generate SQL migrations from src/schema.ts into drizzle/ (committed).
// Generation needs no database; the migrations are applied by src/migrate.ts.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema.ts',
  out: './drizzle',
  strict: true,
});
