"""Under torchrun the CLIP loss uses the global batch: two gloo processes must give the loss and the gradients of one
process on the same global batch (issue: notebook 02c)."""
import os, socket
import torch
import torch.multiprocessing as mp

GLOBAL = ["EVQLVESGGG", "DIQMTQSPSS", "QVQLQESGPG", "EVQLVESGGG", "SYELTQPPSV", "QVQLVQSGAE", "DIVMTQSPDS", "EIVLTQSPGT"]

def _model_and_batch():
    from esm2_ab_clip.clip import AbClipModel, sequence_group
    from esm2_ab_clip.towers import tiny_tower
    tower, tok = tiny_tower("esm", hidden=32, seed=0)
    model = AbClipModel.from_tower(tower, tok, structure_dim=12, projection_dim=16, seed=0).eval()  # eval: no dropout
    enc = tok(GLOBAL, padding=True, return_tensors="pt")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(len(GLOBAL), 12, generator=g)
    groups = torch.tensor([sequence_group(s) for s in GLOBAL])  # items 0 and 3 are identical: exercises the mask too
    return model, enc.input_ids, enc.attention_mask, x, groups

def _worker(rank, world, port, outdir):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.set_num_threads(1)
    model, ids, mask, x, groups = _model_and_batch()
    ddp = DDP(model, find_unused_parameters=True)  # EsmModel builds a contact head that CLIP never uses
    n = len(GLOBAL) // world; sl = slice(rank * n, (rank + 1) * n)
    out = ddp(ids[sl], mask[sl], x[sl], group_ids=groups[sl])
    out.loss.backward()
    loss = out.loss.detach().clone(); dist.all_reduce(loss); loss /= world
    grads = {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}
    if rank == 0: torch.save({"loss": loss, "grads": grads}, os.path.join(outdir, "ddp.pt"))
    dist.destroy_process_group()

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

def test_two_process_loss_and_grads_equal_one_process(tmp_path):
    model, ids, mask, x, groups = _model_and_batch()
    out = model(ids, mask, x, group_ids=groups)
    out.loss.backward()
    ref = {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}
    mp.start_processes(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True, start_method="spawn")
    got = torch.load(tmp_path/"ddp.pt")
    assert torch.allclose(got["loss"], out.loss.detach(), atol=1e-6), (got["loss"], out.loss)
    assert set(got["grads"]) == set(ref)
    bad = [k for k in ref if not torch.allclose(got["grads"][k], ref[k], rtol=1e-4, atol=1e-5)]
    assert not bad, {k: (got["grads"][k] - ref[k]).abs().max().item() for k in bad}
    assert any(ref[k].abs().sum() > 0 for k in ref)  # gradients are not trivially zero

def test_without_gather_the_local_loss_differs(tmp_path):
    """Sanity check that the comparison above can fail: per-rank (local-batch) losses are not the global loss."""
    from esm2_ab_clip.clip import clip_loss
    model, ids, mask, x, groups = _model_and_batch()
    with torch.no_grad():
        o = model(ids, mask, x, group_ids=groups)
        scale = model.clamped_logit_scale()
        local = (clip_loss(o.seq_embeds[:4], o.struct_embeds[:4], scale, groups[:4], gather=False)
                 + clip_loss(o.seq_embeds[4:], o.struct_embeds[4:], scale, groups[4:], gather=False)) / 2
    assert abs(local.item() - o.loss.item()) > 1e-3
