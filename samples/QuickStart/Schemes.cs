using KernelGen;

namespace QuickStart;

/// <summary>4-bit, groups of 128, scale and zero point: the GPTQ/AWQ workhorse.</summary>
[QuantScheme(Bits = 4, GroupSize = 128, Symmetric = false)]
public partial struct Q4G128;

/// <summary>3-bit symmetric, groups of 64: straddling codes, 3.25 bits per weight.</summary>
[QuantScheme(Bits = 3, GroupSize = 64, Symmetric = true)]
public partial struct Q3G64Sym;

/// <summary>8-bit symmetric with one scale per output row.</summary>
[QuantScheme(Bits = 8, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = true)]
public partial struct Q8PerChannel;
