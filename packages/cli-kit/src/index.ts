export {
  action,
  createProgram,
  packageVersion,
  runProgram,
  UsageError,
  type CliStreams,
  type DescribeError,
} from './command-line.js';
export { addBatonOption, batonValue, type BatonOptionField } from './baton-options.js';
