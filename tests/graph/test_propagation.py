"""The two propagation backends compute LightGCN's embeddings and gradients identically."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graph.adjacency import bipartite_adjacency, sym_normalize
from graph.propagation import Propagator, propagate
from graph.training import TrainConfig, make_model


@pytest.fixture
def adj() -> sp.csr_matrix:
    rng = np.random.default_rng(0)
    ui = sp.csr_matrix((rng.random((30, 20)) < 0.3).astype(np.float32))
    return sym_normalize(bipartite_adjacency(ui))


def _embeddings_and_grad(adj: sp.csr_matrix, backend: str) -> tuple[np.ndarray, np.ndarray]:
    model = make_model(adj.shape[0], TrainConfig(embedding_dim=8, num_layers=3, seed=1))
    out = Propagator(adj, backend)(model)  # type: ignore[arg-type]
    loss = (out[:5] * out[30:35]).sum() + out.pow(2).mean()
    loss.backward()
    return out.detach().numpy(), model.embedding.weight.grad.numpy().copy()


def test_scipy_and_torch_backends_agree(adj: sp.csr_matrix) -> None:
    emb_s, grad_s = _embeddings_and_grad(adj, "scipy")
    emb_t, grad_t = _embeddings_and_grad(adj, "torch")
    np.testing.assert_allclose(emb_s, emb_t, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad_s, grad_t, rtol=1e-4, atol=1e-6)
    assert np.abs(grad_s).sum() > 0


def test_numpy_propagate_matches_lightgcn(adj: sp.csr_matrix) -> None:
    model = make_model(adj.shape[0], TrainConfig(embedding_dim=8, num_layers=3, seed=1))
    weight = model.embedding.weight.detach().numpy()
    layers = propagate(weight, adj, 3)
    assert len(layers) == 4
    np.testing.assert_allclose(layers[2], adj @ (adj @ weight), rtol=1e-5, atol=1e-7)
    with torch.no_grad():
        expected = Propagator(adj, "torch")(model).numpy()
    np.testing.assert_allclose(np.mean(layers, axis=0), expected, rtol=1e-5, atol=1e-6)


def test_unknown_backend_is_refused(adj: sp.csr_matrix) -> None:
    with pytest.raises(ValueError, match="backend"):
        Propagator(adj, "cuda")  # type: ignore[arg-type]
