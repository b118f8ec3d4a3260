// Entry point of the eks-sim CLI: wires the process (argv, env, stdio, signals) to runCli.
import { runCli } from './run.js';

// The AWS SDK (used by `token --role-arn`) warns about Node 20 on every run; kubectl shows it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  untilSignal: () =>
    new Promise((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        // Later signals are ignored while closing: a launcher may forward the one the terminal
        // already delivered to the whole process group.
        process.on('SIGINT', () => undefined).on('SIGTERM', () => undefined);
        // Closing is quick; if something still holds the loop open, do not hang forever.
        setTimeout(() => process.exit(process.exitCode ?? 0), 5000).unref();
        resolve(signal);
      };
      process.once('SIGINT', stop).once('SIGTERM', stop);
    }),
});
process.exitCode = code;
