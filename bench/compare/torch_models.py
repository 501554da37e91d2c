"""The reference models in PyTorch, built exactly as Kiln's dev.kiln.models (same layers, same init scheme)."""
import gzip
import os
import struct

import numpy as np
import torch
from torch import nn


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))


class LstmClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 64, batch_first=True)
        self.head = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        _, (h, _) = self.lstm(x.reshape(-1, 28, 28))
        return self.head(h[-1])


MODELS = {"mlp": mlp, "cnn": cnn, "rnn": LstmClassifier}


class Vae(nn.Module):
    """dev.kiln.models.Vae: Dense 256 with separate mean and log-variance heads, Dense 512, Dense 784 (logits)."""

    def __init__(self, latent=20):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU())
        self.mean = nn.Linear(256, latent)
        self.logvar = nn.Linear(256, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, 512), nn.ReLU(), nn.Linear(512, 784))

    def losses(self, x):
        """Negative ELBO per image, its reconstruction term (BCE summed over pixels) and KL, averaged over the batch."""
        flat = x.reshape(-1, 784)
        h = self.encoder(flat)
        mu, logvar = self.mean(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        recon = nn.functional.binary_cross_entropy_with_logits(self.decoder(z), flat, reduction="sum") / len(x)
        kl = -0.5 * torch.sum(1 + logvar - mu * mu - logvar.exp()) / len(x)
        return recon + kl, recon, kl


class Gan(nn.Module):
    """dev.kiln.models.Gan: generator 100-256-512-784 (tanh), discriminator 784-512-256-1 (LeakyReLU 0.2)."""

    def __init__(self):
        super().__init__()
        self.generator = nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
                                       nn.Linear(512, 784), nn.Tanh())
        self.discriminator = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256),
                                           nn.LeakyReLU(0.2), nn.Linear(256, 1))


def gan_step(model, real, opt_d, opt_g, bce):
    """One step of the GAN recipe on a batch of real images in [-1, 1], (n, 784), on their device: the discriminator on
    real and generated images, then the generator against the updated discriminator. Returns (d_loss, g_loss), tensors
    (reading them syncs a GPU)."""
    n, dev = len(real), real.device
    fake = model.generator(torch.randn(n, 100, device=dev))
    ones, zeros = torch.ones(n, 1, device=dev), torch.zeros(n, 1, device=dev)
    d = bce(model.discriminator(real), ones) + bce(model.discriminator(fake.detach()), zeros)
    opt_d.zero_grad()
    d.backward()
    opt_d.step()
    g = bce(model.discriminator(fake), ones)
    opt_g.zero_grad()
    g.backward()
    opt_g.step()
    return d, g


def _idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        dims = struct.unpack(">" + "I" * (magic & 0xFF), f.read(4 * (magic & 0xFF)))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def fashion_mnist(split):
    """The same files Kiln reads: $KILN_DATA (or $KILN_DATA/fashion-mnist), /usr/share/datasets/fashion-mnist,
    ~/.cache/kiln/fashion-mnist."""
    prefix = "train" if split == "train" else "t10k"
    data = os.environ.get("KILN_DATA", "")
    dirs = [data, data and os.path.join(data, "fashion-mnist"), "/usr/share/datasets/fashion-mnist",
            os.path.expanduser("~/.cache/kiln/fashion-mnist")]
    for d in filter(None, dirs):
        img = os.path.join(d, f"{prefix}-images-idx3-ubyte.gz")
        lab = os.path.join(d, f"{prefix}-labels-idx1-ubyte.gz")
        if os.path.exists(img) and os.path.exists(lab):
            x = torch.from_numpy(_idx(img).astype(np.float32) / 255.0).unsqueeze(1)
            y = torch.from_numpy(_idx(lab).astype(np.int64))
            return x, y
    raise SystemExit("Fashion-MNIST not found (apt-get install dataset-fashion-mnist)")
