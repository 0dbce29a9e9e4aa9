// @tally/client: tally for browsers and Node 20 (README.md beside this folder).
export {
  accountFromKeys, accountId, accountJson, accountSecret, createAccount, loadAccount,
  parseAccountId, parseSecret, type Account,
} from "./account.js";
export { base58Decode, base58Encode } from "./base58.js";
export { fromHex, toHex } from "./bytes.js";
export { TallyClient, type ClientOptions } from "./client.js";
export {
  Connection, SUBPROTOCOL, type ConnectionOptions, type WebSocketConstructor, type WebSocketLike,
} from "./connection.js";
export {
  defaultMessage, errorCodeName, TallyError, type ClientCodeName, type ErrorCodeName,
} from "./errors.js";
export {
  adjustmentId, balanceId, catalogId, ObjectKind, objectId, orderQueueId, ordersId,
  parseObjectId, partitionOf, PARTITIONS_DEFAULT, purchaseId, purchasesId, rootId, serviceId,
  type ObjectKindName,
  type ParsedObjectId,
} from "./ids.js";
export {
  addAdminMessage, BALANCE_MAX, buyMessage, completeOrderMessage, createAccountMessage,
  createOrderMessage, creditMessage, debitMessage, editOrderMessage, failOrderMessage,
  ORDER_ERROR_MAX, ORDER_ITEMS_MAX, submitOrderMessage, type CompleteOrderRequest,
  type CreateOrderRequest, type EditOrderRequest, type FailOrderRequest, type OrderItemRequest,
  type OrderMessage, type OrderRequest, type SubmitOrderRequest, messageId, messageIdTime, NOTE_MAX, pingRequest, REFERENCE_MAX, refundMessage,
  removeAdminMessage, sealEnvelope, sendRequest, setPriceMessage, statusRequest, subscribeRequest,
  unsubscribeRequest, type AddAdminRequest, type AdjustmentRequest, type BuyMessage,
  type BuyRequest, type ConfigMessage, type ConfigRequest, type CreateAccountMessage,
  type CreateAccountRequest, type CreditMessage,
  type CreditRequest, type DebitMessage, type DebitRequest, type InboxMessage,
  type InboxRequest, type RefundMessage, type RefundRequest, type RemoveAdminRequest,
  type Sealed, type SetPriceRequest, type UserRequest,
} from "./messages.js";
export {
  orderStatusName, verifyObject, type AdjustmentRecord, type Catalog, type CatalogItem,
  type Group, type GroupMember, type Order, type OrderItem, type OrderList, type OrderQueue,
  type OrderStatusName, type OrderSummary, type PurchaseLog, type PurchaseRecord, type ServiceInfo, type TallyObject,
  type UserBalance, type UserPrivateRoot,
} from "./objects.js";
export {
  follow, FOLLOW_RETRY_MS, OfflineClient, type BalanceState, type OfflineClientOptions,
} from "./offline.js";
export {
  DEDUPE_WINDOW_MS, IndexedDbOutboxStorage, MemoryOutboxStorage, Outbox, OUTBOX_RESEND_MS,
  type OutboxEntry, type OutboxFailure, type OutboxOptions, type OutboxStorage,
  type OutboxTransport, type PendingMessage, type Settled, type StoredMessage,
} from "./outbox.js";
export {
  InboxSender, type ConfigChange, type SenderOptions, type SendOptions, type SendResult,
} from "./sender.js";
export { domainTag, signDomain, verifyDomain, type Domain } from "./sign.js";
export {
  Watcher, type ObjectCallback, type Unsubscribe, type WatcherOptions, type WatcherStats,
} from "./watcher.js";
