import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { buildTestWorld } from './src/kube/test-world.ts';
import { startKubeEndpoint, tokenFor } from './src/kube/test-helpers.ts';
const t = buildTestWorld();
const cluster = t.clusters.api;
const endpoint = await startKubeEndpoint({ world: t.world, cluster });
const token = await tokenFor(t.credentials.admin, cluster);
const alice = await tokenFor(t.credentials.alice, cluster);
writeFileSync('/tmp/kc.yaml', `apiVersion: v1
kind: Config
clusters: [{name: sim, cluster: {server: "${endpoint.url}", certificate-authority-data: "${Buffer.from(endpoint.caPem).toString('base64')}"}}]
users: [{name: admin, user: {token: "${token}"}}, {name: alice, user: {token: "${alice}"}}]
contexts: [{name: sim, context: {cluster: sim, user: admin}}, {name: alice, context: {cluster: sim, user: alice}}]
current-context: sim
`);
const run = (...args: string[]) => { try { return execFileSync('kubectl', ['--kubeconfig', '/tmp/kc.yaml', '--cache-dir', '/tmp/kcache', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); } catch (e: any) { return 'ERR ' + e.stderr + e.stdout; } };
for (const args of [
  ['version'], ['get', 'ns'], ['get', 'rolebindings', '-A'], ['get', 'cm', '-n', 'team-a', '-o', 'yaml'],
  ['auth', 'whoami'], ['auth', 'can-i', 'list', 'configmaps', '-n', 'team-b'],
  ['--context', 'alice', 'auth', 'can-i', 'list', 'configmaps', '-n', 'team-b'],
  ['--context', 'alice', 'get', 'cm', '-n', 'team-b'],
  ['create', 'configmap', 'kc', '-n', 'team-a', '--from-literal=a=1'],
  ['label', 'cm', 'kc', '-n', 'team-a', 'x=y'],
  ['patch', 'cm', 'kc', '-n', 'team-a', '--type=json', '-p', '[{"op":"replace","path":"/data/a","value":"2"}]'],
  ['get', 'cm', 'kc', '-n', 'team-a', '-o', 'jsonpath={.data.a} {.metadata.labels}'],
  ['create', 'rolebinding', 'rb1', '-n', 'team-a', '--clusterrole=view', '--user=bob'],
  ['get', 'rolebinding', 'rb1', '-n', 'team-a', '-o', 'wide'],
  ['delete', 'cm', 'kc', '-n', 'team-a'],
  ['api-resources'],
  ['auth', 'can-i', '--list', '--context', 'alice', '-n', 'team-a'],
  ['apply', '-f', '/tmp/cm-apply.yaml'],
]) console.log('$ kubectl', args.join(' '), '\n' + run(...args));
await endpoint.close();
