// GPT2Config — every config.json field that changes GPT-2's math (transformers' GPT2Config).
//
// Dims are named once here and used everywhere else:
//   V = vocabSize, P = nPositions, C = nEmbd, L = nLayer, NH = nHead, HD = C / NH, F = nInner.
// Parsing from config.json lives in GPT2Config+JSON.swift.

/// The MLP activation (`activation_function`), as transformers' ACT2FN names it.
public enum Activation: String, Sendable, CaseIterable {
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) — GPT-2's default.
    case geluNew = "gelu_new"
    /// 0.5·x·(1 + erf(x/√2)).
    case gelu = "gelu"
    /// The same tanh form as gelu_new (PyTorch's approximate="tanh").
    case geluPytorchTanh = "gelu_pytorch_tanh"
    /// 0.5·x·(1 + tanh(0.7978845608·x·(1 + 0.044715·x²))).
    case geluFast = "gelu_fast"
    /// x·sigmoid(1.702·x).
    case quickGelu = "quick_gelu"
    case relu = "relu"
    /// x·sigmoid(x).
    case silu = "silu"
    /// Alias of silu.
    case swish = "swish"
    case tanh = "tanh"
    case sigmoid = "sigmoid"
    /// Identity.
    case linear = "linear"
}

/// Hyper-parameters of a GPT-2 checkpoint. Immutable once loaded.
public struct GPT2Config: Sendable, Equatable {
    /// V: rows of `wte` (50257 for every OpenAI checkpoint).
    public var vocabSize: Int
    /// P: rows of `wpe`; the hard context limit.
    public var nPositions: Int
    /// C: hidden width.
    public var nEmbd: Int
    /// L: number of transformer blocks.
    public var nLayer: Int
    /// NH: attention heads per block.
    public var nHead: Int
    /// F: MLP width (`n_inner`, null → 4·C).
    public var nInner: Int
    /// eps of ln_1, ln_2 and ln_f.
    public var layerNormEpsilon: Float
    public var activation: Activation
    /// Scores × HD^-0.5 when true.
    public var scaleAttnWeights: Bool
    /// Scores ÷ (layerIndex + 1) when true (layerIndex 0-based).
    public var scaleAttnByInverseLayerIdx: Bool
    /// transformers' fp32-upcast attention path; the same math in fp32, kept for `models` and fidelity.
    public var reorderAndUpcastAttn: Bool
    /// lm_head.weight = wte.weight when true (not stored in the checkpoint).
    public var tieWordEmbeddings: Bool
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    /// Drives sequence-classification pooling; null in every OpenAI checkpoint.
    public var padTokenId: Int?
    /// Class index → label (config.json stores string keys).
    public var id2label: [Int: String]
    public var label2id: [String: Int]
    /// e.g. ["GPT2LMHeadModel"], ["GPT2ForSequenceClassification"].
    public var architectures: [String]
    /// "regression" | "single_label_classification" | "multi_label_classification" | nil.
    public var problemType: String?
    /// GPT2DoubleHeadsModel SequenceSummary settings (`summary_*`).
    public var summaryType: String
    public var summaryUseProj: Bool
    public var summaryActivation: String?
    public var summaryProjToLabels: Bool

    /// HD: width of one attention head.
    public var headDim: Int { nEmbd / nHead }

    public init(
        vocabSize: Int = 50257, nPositions: Int = 1024, nEmbd: Int = 768, nLayer: Int = 12, nHead: Int = 12,
        nInner: Int? = nil, layerNormEpsilon: Float = 1e-5, activation: Activation = .geluNew,
        scaleAttnWeights: Bool = true, scaleAttnByInverseLayerIdx: Bool = false, reorderAndUpcastAttn: Bool = false,
        tieWordEmbeddings: Bool = true, bosTokenId: Int? = 50256, eosTokenId: Int? = 50256, padTokenId: Int? = nil,
        id2label: [Int: String] = [0: "LABEL_0", 1: "LABEL_1"], label2id: [String: Int] = ["LABEL_0": 0, "LABEL_1": 1],
        architectures: [String] = [], problemType: String? = nil,
        summaryType: String = "cls_index", summaryUseProj: Bool = true, summaryActivation: String? = nil,
        summaryProjToLabels: Bool = true
    ) {
        self.vocabSize = vocabSize; self.nPositions = nPositions; self.nEmbd = nEmbd; self.nLayer = nLayer
        self.nHead = nHead; self.nInner = nInner ?? 4 * nEmbd; self.layerNormEpsilon = layerNormEpsilon
        self.activation = activation; self.scaleAttnWeights = scaleAttnWeights
        self.scaleAttnByInverseLayerIdx = scaleAttnByInverseLayerIdx; self.reorderAndUpcastAttn = reorderAndUpcastAttn
        self.tieWordEmbeddings = tieWordEmbeddings; self.bosTokenId = bosTokenId; self.eosTokenId = eosTokenId
        self.padTokenId = padTokenId; self.id2label = id2label; self.label2id = label2id
        self.architectures = architectures; self.problemType = problemType; self.summaryType = summaryType
        self.summaryUseProj = summaryUseProj; self.summaryActivation = summaryActivation
        self.summaryProjToLabels = summaryProjToLabels
    }

    /// Number of labels a classification head has (derived from id2label, as transformers does).
    public var numLabels: Int { id2label.count }
}

extension GPT2Config {
    /// The OpenAI checkpoint shapes (REFERENCE 2.1). All: V 50257, P 1024, HD 64.
    public static let distilgpt2 = GPT2Config(nLayer: 6)
    public static let gpt2 = GPT2Config()
    public static let gpt2Medium = GPT2Config(nEmbd: 1024, nLayer: 24, nHead: 16)
    public static let gpt2Large = GPT2Config(nEmbd: 1280, nLayer: 36, nHead: 20)
    public static let gpt2XL = GPT2Config(nEmbd: 1600, nLayer: 48, nHead: 25)
}
