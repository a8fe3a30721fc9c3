// A Backlot custom action written with Temporal's TypeScript SDK (plain
// JavaScript, so it runs without a compile step): the activity
// "shoutInTypeScript" on the task queue TASK_QUEUE of the Temporal frontend
// TEMPORAL_ADDRESS. Backlot schedules it with two arguments, the step's
// rendered input and the step's context (taskId, stepId, action,
// templateRef, userRef), and takes its result as the step's output.
const { Worker, NativeConnection, Runtime, DefaultLogger } = require('@temporalio/worker');

async function shoutInTypeScript(input, context) {
  return {
    shouted: String(input.text).toUpperCase() + '!'.repeat(input.exclamations ?? 1),
    by: `typescript for ${context.userRef} in ${context.taskId}/${context.stepId}`,
  };
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: process.env.TASK_QUEUE,
    activities: { shoutInTypeScript },
  });
  console.log('worker ready');
  await worker.run();
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
