// GPT2Tasks — task heads with transformers-pipeline semantics over GPT-2 final hidden states.
//
//   task      type                 head tensor (GPT2Weights.heads)          reference behaviour
//   classify  SequenceClassifier   score.weight                             text-classification (5.23.0 = 4.57.1)
//   tag       TokenTagger          classifier.weight/.bias                  token-classification (5.23.0 = 4.57.1)
//   qa        QuestionAnswerer     qa_outputs.weight/.bias                  question-answering (4.57.1; gone in 5.x)
//   choose    MultipleChoice       multiple_choice_head.summary.weight/.bias  GPT2DoubleHeadsModel mc_logits
//   embed     Embedder             (none: any checkpoint)                   last / mean of h after ln_f, opt. L2
//
// Every task has the same three steps, so a server can batch the forward passes of many requests:
//   1. plan:   tokenize and say what to run  → [HiddenRequest] (tokens + `.last`/`.all` hidden rows)
//   2. run:    the caller's GPT2Runner.forward(ForwardRequest(cache: fresh, tokens, logits: .none,
//              hidden: rows)) — or TaskRunner.hiddenStates for the simple path
//   3. finish: a pure function from those rows (+ offsets) to the pipeline's output
// plus a convenience `run(...)` doing all three. TaskHeads.supportedTasks(config:weights:) lists what a
// checkpoint can do; constructing a task on a model without its head throws
// TaskError.unsupportedTask(task:missing:) (→ wire error `unsupported_task`).
//
// Output shapes the daemon must still apply (the Swift results are uniform lists):
//   classify: the pipeline returns a single {label, score} when top_k is not passed, a list otherwise;
//   tag: key `entity` (+ `index`) for aggregation "none", `entity_group` for the other strategies;
//   qa: a single dict when one answer, else a list.
