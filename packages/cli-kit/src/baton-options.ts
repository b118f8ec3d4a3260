// baton-eks's configuration fields as commander options: our flag in the help, baton-eks's flag
// names accepted beside it, and the BATON_* variable when no flag is given. The fields themselves are
// @eks-access/model's BATON_FIELDS (its BatonField fits BatonOptionField).
import { Option, type Command } from 'commander';

/** What a baton field needs to become an option. */
export interface BatonOptionField {
  flag: string;
  short?: string;
  aliases: readonly string[];
  env: string;
  envAliases?: readonly string[];
  description: string;
}

const attribute = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** What the help shows as the value: <arn>, <id>, <key>, <secret>, <region> or <name>. */
const placeholder = (flag: string) => `<${/(arn|id|key|region|secret)$/.exec(flag)?.[1] ?? 'name'}>`;

/** Adds a field's flag, described with its variable and aliases, and the aliases (hidden). */
export function addBatonOption(command: Command, field: BatonOptionField): void {
  const names = [field.env, ...(field.envAliases ?? [])].join(' or ');
  const also = field.aliases.length > 0 ? `; also --${field.aliases.join(', --')}` : '';
  command.addOption(
    new Option(
      `${field.short ? `-${field.short}, ` : ''}--${field.flag} ${placeholder(field.flag)}`,
      `${field.description} (${names}${also})`,
    ),
  );
  for (const alias of field.aliases)
    command.addOption(new Option(`--${alias} ${placeholder(alias)}`).hideHelp());
}

/** A field's value and where it came from (the flag given, else the variable), or undefined. */
export function batonValue(
  command: Command,
  field: BatonOptionField,
  env: (name: string) => string | undefined,
): { value: string; from: string } | undefined {
  for (const flag of [field.flag, ...field.aliases]) {
    const value: unknown = command.getOptionValue(attribute(flag));
    if (typeof value === 'string' && value.trim() !== '') return { value: value.trim(), from: `--${flag}` };
  }
  for (const name of [field.env, ...(field.envAliases ?? [])]) {
    const value = env(name);
    if (value !== undefined) return { value, from: name };
  }
  return undefined;
}
