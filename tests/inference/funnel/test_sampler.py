"""The sampler's callbacks read the kernel's arguments back from nutpie's table exactly as
the packer wrote them: every field, in place, with its dtype and shape."""

import numpy as np

from inference import ModelSpec
from inference.funnel.layout import KernelData, layout_for, pack
from inference.funnel.sampler import unpack
from inference.nutpie_adapter import pack_table
from tests.inference.funnel.test_kernel import messy, short_arm, trial


def test_the_callbacks_read_back_what_the_packer_wrote():
    data = short_arm(messy(trial("3 channels x 2 arms")))
    packed = pack(data, layout_for(data, ModelSpec()))
    table, arrays = pack_table(packed)
    back = unpack(table)
    assert type(back) is KernelData
    for name, wrote, read in zip(KernelData._fields, packed, back, strict=True):
        wrote, read = np.asarray(wrote), np.asarray(read)
        assert read.dtype == wrote.dtype, name
        np.testing.assert_array_equal(read, wrote, err_msg=name)
    assert arrays  # the arrays the table points into, alive until here
