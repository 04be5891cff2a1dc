// The Train page's presets, shared with the <glassgpt-train> widget (embed.js): a model shape and
// a schedule, in the core's RunOptions fields (src/model/run.rs).

/** Presets: the shape and the schedule. "tiny" is the one the one-minute target is stated for. */
export const PRESETS = {
  tiny: {
    n_layer: 2, n_head: 4, n_embd: 64, block_size: 32, pos_encoding: 'learned',
    batch_size: 32, steps: 800, lr: 1e-2, min_lr: 1e-3, warmup_steps: 50, schedule: 'cosine', seed: 1337,
  },
  small: {
    n_layer: 4, n_head: 4, n_embd: 128, block_size: 128, pos_encoding: 'learned',
    // The shipped model's recipe at B = 16 (lr 6e-3 beat 2e-3 and 1.2e-2 in 1,500-step runs: val 1.700 vs 1.778 and 1.722).
    batch_size: 16, steps: 3000, lr: 6e-3, min_lr: 6e-4, warmup_steps: 100, schedule: 'cosine', seed: 1337,
  },
};
