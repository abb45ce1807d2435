"""The teacher stage's loss (training.teacher): the student ranks a batch's titles as multilingual-e5-small does."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from sentence_transformers import SentenceTransformer
from torch import Tensor, nn
from torch.nn import functional as F

from shopsearch.training.teacher import SCALE, TEMPERATURE


class RankingDistillLoss(nn.Module):
    """KL from the teacher's softmax over the batch's titles (every row's positive and negatives) to the student's,
    plus MNRL's cross-entropy on each query's own title. Labels: the teacher's vectors, (batch, 4, dim)."""

    def __init__(self, model: SentenceTransformer, scale: float = SCALE, temperature: float = TEMPERATURE) -> None:
        super().__init__()
        self.model = model
        self.scale = scale
        self.temperature = temperature

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        embedded = [self.model(features)["sentence_embedding"] for features in sentence_features]
        with torch.autocast("cpu", enabled=False):  # scores in float32: bfloat16 cannot tell 0.85 from 0.853
            queries = F.normalize(embedded[0].float(), dim=-1)
            titles = F.normalize(torch.cat([e.float() for e in embedded[1:]]), dim=-1)  # positives first
            student = queries @ titles.T * self.scale
            teacher = labels.detach().float()
            teacher_titles = torch.cat([teacher[:, i] for i in range(1, teacher.size(1))])
            target = torch.softmax(teacher[:, 0] @ teacher_titles.T / self.temperature, dim=1)
            log_probs = F.log_softmax(student, dim=1)
            own = torch.arange(len(queries), device=student.device)
            return F.kl_div(log_probs, target, reduction="batchmean") + F.cross_entropy(student, own)
