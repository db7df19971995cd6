#ifndef YARDSTICK_TORCH_SHIM_H
#define YARDSTICK_TORCH_SHIM_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// Each returns NULL on success or a malloc'd error message the caller frees.
char *yst_manual_seed(int64_t seed);
char *yst_set_num_threads(int n);
int yst_get_num_threads(void);
// scaled_dot_product_attention(q, k, v, attn_mask, dropout_p=0, is_causal); mask NULL means None; *out
// receives a new handle.
char *yst_sdpa(void **out, void *q, void *k, void *v, void *mask, int causal);
// One AdamW step over n parameters (torch.optim.AdamW math), zeroing their gradients.
char *yst_adamw_step(void **params, void **exp_avg, void **exp_avg_sq, int n, double lr, double beta1,
                     double beta2, double eps, double weight_decay, int64_t step, int decay_matrices_only);
// clip_grad_norm_ (L2) over n parameters' gradients; *total receives the norm before clipping.
char *yst_clip_grad_norm(void **params, int n, double max_norm, double *total);
#ifdef __cplusplus
}
#endif
#endif
