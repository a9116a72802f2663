namespace KernelGen.Cli;

/// <summary>4-bit asymmetric, groups of 128: the GPTQ/AWQ checkpoint format.</summary>
[QuantScheme(Bits = 4, GroupSize = 128, Name = "q4g128")]
public partial struct Q4G128;

/// <summary>4-bit symmetric, groups of 128.</summary>
[QuantScheme(Bits = 4, GroupSize = 128, Symmetric = true, Name = "q4g128s")]
public partial struct Q4G128Sym;

/// <summary>8-bit symmetric, one scale per output row.</summary>
[QuantScheme(Bits = 8, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = true, Name = "q8pcs")]
public partial struct Q8PerChannelSym;

/// <summary>3-bit asymmetric, groups of 128.</summary>
[QuantScheme(Bits = 3, GroupSize = 128, Name = "q3g128")]
public partial struct Q3G128;

/// <summary>2-bit asymmetric, groups of 64.</summary>
[QuantScheme(Bits = 2, GroupSize = 64, Name = "q2g64")]
public partial struct Q2G64;

/// <summary>4-bit asymmetric, groups of 32: small models whose rows are short (stories260K: 64 and 172).</summary>
[QuantScheme(Bits = 4, GroupSize = 32, Name = "q4g32")]
public partial struct Q4G32;

/// <summary>3-bit asymmetric, groups of 32.</summary>
[QuantScheme(Bits = 3, GroupSize = 32, Name = "q3g32")]
public partial struct Q3G32;
